"""Personal data (ID numbers, phones): encrypted at rest, masked in lists, every reveal audited."""
