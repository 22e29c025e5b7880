"""Publish: run the notebooks with papermill, render HTML with nbconvert, swap outputs in atomically."""
