"""The ``yinling`` command's groups of sub-commands (bot/cli.py puts them together). Each
module adds its sub-commands to the parser (``add_arguments``) and runs them (``run``, which
returns the exit status); what a command needs it imports when it runs, so that
``yinling --help`` loads no database code.
"""
