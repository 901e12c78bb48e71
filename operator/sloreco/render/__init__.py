"""Output formats for people and tools: the text report (and the CRD rendering of results)."""
