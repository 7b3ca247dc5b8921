"""Confluent's Python client (confluent_kafka) against a Strand registry.

Usage: confluent_kafka_client.py URL TOPIC encode
       confluent_kafka_client.py URL TOPIC decode HEX

`encode` registers an Avro schema and looks it up again written in another key
order (SchemaRegistryClient), then serializes a value with JSONSerializer
(which registers its schema under TOPIC-value), and prints what it got as JSON.
`decode` reads wire-format bytes back with JSONDeserializer. AvroSerializer
needs fastavro (Debian does not package it), so Avro is registered and looked
up here, not serialized. JSONSerializer needs a `title` in the schema.
"""
import json
import sys

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

PERSON = {"title": "Person", "type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}, "required": ["id"]}
USER = {"type": "record", "name": "User", "namespace": "com.example", "fields": [{"name": "id", "type": "int"}]}
USER_REORDERED = '{"fields": [{"type": "int", "name": "id"}], "namespace": "com.example", "name": "User", "type": "record"}'


def main() -> None:
    url, topic, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    client = SchemaRegistryClient({"url": url})
    ctx = SerializationContext(topic, MessageField.VALUE)
    if mode == "encode":
        avro_subject = f"{topic}-avro"
        avro_id = client.register_schema(avro_subject, Schema(json.dumps(USER), "AVRO"))
        found = client.lookup_schema(avro_subject, Schema(USER_REORDERED, "AVRO"))
        serializer = JSONSerializer(json.dumps(PERSON), client, to_dict=lambda obj, _ctx: obj)
        value = serializer({"id": 1, "name": "Ada"}, ctx)
        json_id = client.get_latest_version(f"{topic}-value").schema_id
        print(json.dumps({"avroId": avro_id, "avroLookupId": found.schema_id, "jsonId": json_id, "value": value.hex()}))
    else:
        deserializer = JSONDeserializer(json.dumps(PERSON), from_dict=lambda obj, _ctx: obj)
        print(json.dumps({"decoded": deserializer(bytes.fromhex(sys.argv[4]), ctx)}))


if __name__ == "__main__":
    main()
