"""Analysis: filter-bank diagnostics (``filters``), the wavelet families the Wavelets page draws
(``families``), the filter playground's taps (``playground``), what the memory remembers
(``memory``), how far back it reads and how many slots one analysis takes (``span``) and what
it costs to keep (``footprint``), why a classifier decided (``explain``)."""
