"""The review app's JSON API: request/response models (`models`), the conversion of stored
records into them (`convert`) and the watchlist changes it makes (`watchlist`); the routes are
review/routes/api.py."""
