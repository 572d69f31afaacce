"""Local infrastructure: a real Kafka broker and a MongoDB-compatible store on 127.0.0.1."""
