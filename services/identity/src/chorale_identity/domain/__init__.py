"""The identity service's pure domain core: no I/O, no asyncio, no framework.

Modules: ``errors`` (codes), ``clock``, ``base`` (DomainModel, Transition), ``events``,
``validation``, ``passwords``, ``accounts``, ``sign_in``, ``factors``/``totp``,
``verification``, ``keys``/``tokens``/``refresh_tokens``, ``rattachements``/``approbations``,
``gestionnaire``, ``technical_accounts``, ``secrets_util``.
"""
