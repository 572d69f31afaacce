"""Peerloop's web app for employees: a backend-for-frontend over the services' public APIs."""
