"""ichLinks Harvester: the application shell of the aggregator.

``config`` reads the sources; ``oai`` talks OAI-PMH (httpx + our own parser + sickle's
models); ``store`` keeps raw records, checkpoints, ICH records and the outbox; ``harvest``
and ``runner`` harvest; ``crosswalking`` applies ``mappings``; ``relay`` feeds ``indexer``;
``service``, ``scheduling``, ``demo`` and ``publishing`` are the ways to run it; ``cli`` is
the ``ichlinks`` command.  Nothing is imported here, so ``ichlinks --help`` starts fast.
"""
