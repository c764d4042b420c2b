"""Browser pages. Thin: resolve access, call one selector or service, render."""
