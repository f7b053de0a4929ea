#!/usr/bin/env python3
"""Capture driver for kafka-python (Debian python3-kafka, run with /usr/bin/python3): admin, a
producer with and without gzip, and a consumer group that reads, commits and leaves. Run through
scripts/capture-frames.ts (see test/fixtures/frames/README.md), which sets GODEL_CAPTURE_BOOTSTRAP.
"""
import os
import time

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewPartitions, NewTopic

bootstrap = os.environ['GODEL_CAPTURE_BOOTSTRAP']
topic = 'capture-kafka-python'
group = 'capture-kafka-python-group'
client_id = 'capture-kafka-python'

admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id=client_id)
admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={'retention.ms': None})])
admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={'retention.ms': '86400000'})])
admin.create_partitions({topic: NewPartitions(total_count=3)})

for compression in (None, 'gzip'):
    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id=client_id, acks='all', compression_type=compression)
    # Long and repetitive when compressed: kafka-python sends a batch gzip would not shrink as it is.
    key, value = (b'k', b'v') if compression is None else (b'kz', b'gzipped' * 40)
    producer.send(topic, key=key, value=value, headers=[('h', b'1')], partition=0 if compression is None else 1).get(timeout=30)
    producer.close(timeout=10)

consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, client_id=client_id, group_id=group,
                         auto_offset_reset='earliest', enable_auto_commit=False,
                         session_timeout_ms=10000, heartbeat_interval_ms=300, fetch_max_wait_ms=100)
got = 0
deadline = time.time() + 30
while got < 2 and time.time() < deadline:
    got += sum(len(records) for records in consumer.poll(timeout_ms=200).values())
if got < 2:
    raise SystemExit('the consumer read %d of 2 records' % got)
consumer.commit()
end = time.time() + 1.5  # heartbeats
while time.time() < end:
    consumer.poll(timeout_ms=100)
consumer.close()  # LeaveGroup

admin.list_consumer_groups()
admin.describe_consumer_groups([group])
admin.list_consumer_group_offsets(group)
admin.delete_topics([topic])
admin.close()
