"""Jobmon's client API (Tool, TaskTemplate, Task, Workflow) over Jobmon for TypeScript's HTTP API."""
