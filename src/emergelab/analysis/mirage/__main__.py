"""`python -m emergelab.analysis.mirage`: the mirage-test calibration grid (calibration.main)."""

from emergelab.analysis.mirage.calibration import main

raise SystemExit(main())
