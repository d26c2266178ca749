"""``overfit-gate init``: look at a repository and write a gate set-up that works (detect.py
reads the repo, render.py writes the files, write.py puts them in place without clobbering)."""
