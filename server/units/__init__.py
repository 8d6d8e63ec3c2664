"""Units cases are dispatched to: departments, stationed units, property companies, repair teams."""
