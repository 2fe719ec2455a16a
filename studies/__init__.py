"""One-off studies that choose a default or write a results page; they import the library, nothing imports them."""
