"""SQLModel table models. Every table shares the one ``SQLModel.metadata``.

Each area keeps its tables in its own module here (``audit`` for the audit chain,
the Store's modules for everything else); the migrations import them all.
"""
