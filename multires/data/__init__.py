"""Data: built-in signals (``signals``), untrusted uploads (``uploads``), training tasks
(``tasks``) and reference classifiers (``baselines``). Everything ships inside installed packages."""
