"""The runtime every service shares: the stream worker and its delivery guarantees,
client factories, health and metrics, lag, dead letters, API keys and enqueueing.
"""
