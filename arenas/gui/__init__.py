"""GUI automation arena: MiniWoB++ tasks in a real headless Chromium, driven through Playwright."""
