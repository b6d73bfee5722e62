"""Volume forecast per hub and day against the slots' derived capacity, and the staffing it needs."""
