"""What the api and the file-job workers share about jobs: the record, its commits, the params.

Nothing here imports the web framework or the data libraries, so both runtimes can use it.
"""
