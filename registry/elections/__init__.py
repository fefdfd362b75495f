"""Elections, kieskringen, municipalities and candidate lists."""
