"""Controlled vocabularies of the crosswalks, kept as YAML so a librarian can review them.

A package (not a bare folder) so that setuptools ships the YAML files as package data and
``importlib.resources`` finds them in an installed wheel as well as in the work tree.
"""
