"""The service layer: paging emergencies, broadcasts, reminders, binding notices and SMS
codes, and the message log's retention.

Between the composition root and the dialogue handlers (bot -> services -> handlers ->
storage, checked by lint-imports). Nothing here imports ``bot``: what a service needs from
the process (the senders, the flood limits, the settings, a way to kick a job) it receives
as a ``services.ports.Context``, and ``bot/jobs.py`` composes the services' jobs and
periodic checks into the job registry at start.
"""
