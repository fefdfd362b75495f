"""The centraal stembureau: examination (I 1), shortages and repair (I 2), inspection copy (I 3),
decision (I 4, I 5 c), finality and destruction (I 19)."""
