"""The bundle (contract 2, ``docs/bundle.md``): one folder that every deployment surface loads.

- :mod:`.manifest`: the schema of ``manifest.json``: writing, reading (schema 1 and 2), validating, and the
  choices it records (artifact preference of ``runtime="auto"``, image limits).
- :mod:`.integrity`: file records (path, bytes, sha256) and the check that refuses a tampered bundle.
- :mod:`.samples`: image sets for calibration and verification, and ``samples.npz`` inside the bundle.
- :mod:`.reference`: ``reference.pt``, the eager model every artifact is verified against.
- :mod:`.verification`: the verification records (per-artifact checks and the report) as stored.

``lightship.export`` writes bundles through this package; ``lightship.runtime``, ``lightship.serve`` and
``lightship.web`` read them through it.
"""
