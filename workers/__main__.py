"""`python -m workers`: a worker, as `celery -A workers.app worker` starts one (`workers.start`)."""

from workers.start import main

main()
