"""Analysis: filter-bank diagnostics and wavelet families (``filters``), the filter playground's
taps (``playground``) and what the memory remembers (``memory``), why a classifier decided (``explain``)."""
