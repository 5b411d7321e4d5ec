"""The user commands of `jobcast` (login, whoami, submit, jobs, watch, orders, market, chat), on
`jobcast.client`, a module each. `jobcast.cli` lists them and loads one only to run it
(jobcast.lazy_commands), so this package imports nothing itself."""
