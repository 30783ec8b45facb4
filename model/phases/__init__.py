"""The phases of one week, each a ``run(model)`` function, in the documented order.

1. demography, 2. need dynamics, 3. council strategy, 4. matching, 5. care delivery,
6. civic energy, 7. businesses (then 8. collect, in the model). See ``docs/ODD.md`` §3.
"""
