"""Reports: the JSON document (the record) and its rich rendering (the view). The core never prints."""
