"""The Kubernetes API client: the only module besides ``sources`` that talks to a server."""
