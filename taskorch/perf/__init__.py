"""Performance validation: the shared workloads and, around them, the validation tools."""
