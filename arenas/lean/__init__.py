"""The Lean 4 arena: critic, formalize and prove modes on miniF2F (see arena.py)."""
