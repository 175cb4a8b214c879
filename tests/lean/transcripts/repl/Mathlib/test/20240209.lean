example : False := by
  simpa using show False by done
