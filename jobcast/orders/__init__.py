"""What the api and the matching workers share about orders.

Symbol rules, records, encodings, intake.

Nothing here imports the matching engine, so the api can use it and stay small.
"""
