"""Jobcast: the launcher, the settings and what every runtime shares."""
