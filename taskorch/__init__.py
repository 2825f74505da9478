"""taskorch: a fast, embeddable task orchestrator for agent workflows."""
