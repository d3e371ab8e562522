"""Newsflow's tools: the ``newsflow`` command, the local supervisor, the embedded
servers, pushing files, status, re-enrichment, evaluation and the benchmark.

This is the top floor: it may import ``newsflow`` and the services; nothing below
imports it, and it is not installed in the service image.
"""
