package godel.interop;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Drives the Java Kafka client for test/interop/java.test.ts. Every result is one JSON object per
 * line on stdout; the client's own logging goes to stderr.
 *
 * <pre>
 * produce        --bootstrap H:P --topic T --count N [--partitions P] [--compression CODEC]
 * consume-assign --bootstrap H:P --topic T --partitions P --expect N [--seek PARTITION:OFFSET]
 * consume-group  --bootstrap H:P --topic T --group G --expect N
 * admin          --bootstrap H:P --topic T
 * </pre>
 *
 * and for test/interop/groups.test.ts, long-running processes driven through stdin:
 *
 * <pre>
 * produce-stream --bootstrap H:P --topic T --partitions P [--interval-ms MS] [--tag TAG]
 *     one record every MS ms (key k-i, value TAG-i) until a line "stop" (or the end of stdin)
 * group-member   --bootstrap H:P --topic T --group G --client-id ID [--session-timeout-ms MS]
 *                [--heartbeat-ms MS] [--assignor range|roundrobin|cooperative-sticky|default]
 *     a member that commits (commitSync) after every poll and in onPartitionsRevoked, until a line
 *     "leave" (or the end of stdin): commit, close() (LeaveGroup), exit
 * group-admin    --bootstrap H:P --group G --phase live|empty
 *     the AdminClient on a group: listConsumerGroups, describeConsumerGroups,
 *     listConsumerGroupOffsets, deleteConsumerGroups
 * </pre>
 *
 * Records produced by {@code produce} are key {@code k-i}, value {@code v-i}, headers
 * {@code i=<i>} and {@code src=java}, record i going to partition i % P. The producer uses the
 * client's defaults (idempotent, acks=all) apart from the serializers (and compression.type when
 * --compression is given).
 */
public final class Main {
  private static final long DEFAULT_DEADLINE_MS = 90_000;

  public static void main(String[] args) throws Exception {
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    if (args.length < 1) usage();
    Map<String, String> opts = parseOptions(args);
    emit(obj("type", "version", "kafkaClients", clientVersion()));
    int rc;
    switch (args[0]) {
      case "produce": rc = produce(opts); break;
      case "consume-assign": rc = consumeAssign(opts); break;
      case "consume-group": rc = consumeGroup(opts); break;
      case "admin": rc = admin(opts); break;
      case "produce-stream": rc = produceStream(opts); break;
      case "group-member": rc = groupMember(opts); break;
      case "group-admin": rc = groupAdmin(opts); break;
      case "offset-delete": rc = offsetDelete(opts); break;
      default: usage(); return;
    }
    System.out.flush();
    // Client threads must not keep the JVM up.
    Runtime.getRuntime().halt(rc);
  }

  // ---------------------------------------------------------------------------------------------

  private static int produce(Map<String, String> o) throws Exception {
    String topic = req(o, "topic");
    int count = Integer.parseInt(req(o, "count"));
    int partitions = Integer.parseInt(o.getOrDefault("partitions", "1"));
    long deadline = System.currentTimeMillis() + Long.parseLong(o.getOrDefault("deadline-ms", "" + DEFAULT_DEADLINE_MS));
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, req(o, "bootstrap"));
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "godel-interop-java-producer");
    if (o.containsKey("compression")) p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, o.get("compression"));
    int errors = 0;
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
    try {
      List<Future<RecordMetadata>> futures = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, i % partitions, utf8("k-" + i), utf8("v-" + i));
        r.headers().add("i", utf8(Integer.toString(i)));
        r.headers().add("src", utf8("java"));
        futures.add(producer.send(r));
      }
      producer.flush();
      for (int i = 0; i < count; i++) {
        try {
          long left = Math.max(1, deadline - System.currentTimeMillis());
          RecordMetadata md = futures.get(i).get(left, TimeUnit.MILLISECONDS);
          emit(obj("type", "sent", "i", i, "partition", md.partition(), "offset", md.offset(), "timestamp", md.timestamp()));
        } catch (ExecutionException | TimeoutException e) {
          errors++;
          Throwable c = e instanceof ExecutionException ? e.getCause() : e;
          emit(obj("type", "error", "i", i, "error", describe(c)));
        }
      }
    } finally {
      producer.close(Duration.ofSeconds(errors == 0 ? 30 : 0));
    }
    emit(obj("type", "done", "sent", count - errors, "errors", errors));
    return errors == 0 ? 0 : 1;
  }

  private static Properties consumerProps(Map<String, String> o) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, req(o, "bootstrap"));
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "godel-interop-java-consumer");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return p;
  }

  private static int consumeAssign(Map<String, String> o) {
    String topic = req(o, "topic");
    int partitions = Integer.parseInt(req(o, "partitions"));
    int expect = Integer.parseInt(req(o, "expect"));
    long deadline = System.currentTimeMillis() + Long.parseLong(o.getOrDefault("deadline-ms", "" + DEFAULT_DEADLINE_MS));
    Properties p = consumerProps(o);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      List<TopicPartition> tps = new ArrayList<>();
      for (int i = 0; i < partitions; i++) tps.add(new TopicPartition(topic, i));
      consumer.assign(tps);
      consumer.seekToBeginning(tps);
      String seek = o.get("seek");
      if (seek != null) {
        String[] parts = seek.split(":");
        consumer.seek(new TopicPartition(topic, Integer.parseInt(parts[0])), Long.parseLong(parts[1]));
      }
      int got = pollUntil(consumer, expect, deadline);
      for (TopicPartition tp : tps) {
        emit(obj("type", "position", "partition", tp.partition(), "offset", consumer.position(tp, Duration.ofSeconds(30))));
      }
      Map<TopicPartition, Long> ends = consumer.endOffsets(tps, Duration.ofSeconds(30));
      Map<TopicPartition, Long> begins = consumer.beginningOffsets(tps, Duration.ofSeconds(30));
      for (TopicPartition tp : tps) {
        emit(obj("type", "offsets", "partition", tp.partition(), "beginning", begins.get(tp), "end", ends.get(tp)));
      }
      emit(obj("type", "done", "count", got));
      return got == expect ? 0 : 1;
    }
  }

  private static int consumeGroup(Map<String, String> o) {
    String topic = req(o, "topic");
    int expect = Integer.parseInt(req(o, "expect"));
    long deadline = System.currentTimeMillis() + Long.parseLong(o.getOrDefault("deadline-ms", "" + DEFAULT_DEADLINE_MS));
    Properties p = consumerProps(o);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, req(o, "group"));
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of(topic));
      int got = pollUntil(consumer, expect, deadline);
      Set<TopicPartition> assigned = new HashSet<>(consumer.assignment());
      List<Object> names = new ArrayList<>();
      for (TopicPartition tp : assigned) names.add(tp.partition());
      emit(obj("type", "assignment", "partitions", names));
      consumer.commitSync(Duration.ofSeconds(30));
      Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned, Duration.ofSeconds(30));
      for (Map.Entry<TopicPartition, OffsetAndMetadata> e : committed.entrySet()) {
        emit(obj("type", "committed", "partition", e.getKey().partition(),
            "offset", e.getValue() == null ? null : e.getValue().offset()));
      }
      emit(obj("type", "done", "count", got));
      return got == expect ? 0 : 1;
    } catch (RuntimeException e) {
      emit(obj("type", "error", "error", describe(e)));
      return 1;
    }
  }

  private static int pollUntil(KafkaConsumer<byte[], byte[]> consumer, int expect, long deadline) {
    int got = 0;
    while (got < expect && System.currentTimeMillis() < deadline) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
        got++;
        emitRecord(r);
      }
    }
    // Anything beyond the expected count would be a duplicate: look once more, briefly.
    if (got >= expect) {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(1000))) {
        got++;
        emitRecord(r);
      }
    }
    return got;
  }

  private static void emitRecord(ConsumerRecord<byte[], byte[]> r) {
    List<Object> headers = new ArrayList<>();
    for (Header h : r.headers()) headers.add(Arrays.asList(h.key(), h.value() == null ? null : str(h.value())));
    emit(obj("type", "record", "partition", r.partition(), "offset", r.offset(),
        "key", r.key() == null ? null : str(r.key()), "value", r.value() == null ? null : str(r.value()),
        "headers", headers, "timestamp", r.timestamp(), "timestampType", r.timestampType().toString()));
  }

  // ---------------------------------------------------------------------------------------------

  private interface Step { Object run() throws Exception; }

  private static int failures = 0;

  private static void step(String name, Step s) {
    try {
      Object result = s.run();
      emit(obj("type", "step", "step", name, "ok", true, "result", result));
    } catch (Throwable e) {
      failures++;
      Throwable c = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      emit(obj("type", "step", "step", name, "ok", false, "error", describe(c)));
    }
  }

  private static int admin(Map<String, String> o) {
    String topic = req(o, "topic");
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, req(o, "bootstrap"));
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "godel-interop-java-admin");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    final long t = 30;
    try (Admin admin = Admin.create(p)) {
      step("createTopics", () -> {
        NewTopic nt = new NewTopic(topic, 3, (short) 1)
            .configs(Map.of("retention.ms", "3600000", "cleanup.policy", "delete"));
        admin.createTopics(List.of(nt)).all().get(t, TimeUnit.SECONDS);
        return null;
      });
      step("createTopics-again", () -> {
        admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(t, TimeUnit.SECONDS);
        return null;
      });
      step("listTopics", () -> new ArrayList<Object>(admin.listTopics().names().get(t, TimeUnit.SECONDS)));
      step("describeTopics", () -> {
        TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(t, TimeUnit.SECONDS).get(topic);
        List<Object> parts = new ArrayList<>();
        for (TopicPartitionInfo pi : d.partitions()) {
          parts.add(obj("partition", pi.partition(), "leader", pi.leader() == null ? null : pi.leader().id(),
              "replicas", pi.replicas().size(), "isr", pi.isr().size()));
        }
        return obj("name", d.name(), "internal", d.isInternal(),
            "topicId", d.topicId() == null ? null : d.topicId().toString(), "partitions", parts);
      });
      step("describeConfigs", () -> {
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config c = admin.describeConfigs(List.of(r)).all().get(t, TimeUnit.SECONDS).get(r);
        Map<String, Object> entries = new LinkedHashMap<>();
        for (ConfigEntry e : c.entries()) {
          entries.put(e.name(), obj("value", e.value(), "source", e.source().toString(), "readOnly", e.isReadOnly()));
        }
        return entries;
      });
      step("describeCluster", () -> {
        DescribeClusterResult r = admin.describeCluster();
        List<Object> nodes = new ArrayList<>();
        for (Node n : r.nodes().get(t, TimeUnit.SECONDS)) nodes.add(obj("id", n.id(), "host", n.host(), "port", n.port()));
        Node ctl = r.controller().get(t, TimeUnit.SECONDS);
        return obj("clusterId", r.clusterId().get(t, TimeUnit.SECONDS), "nodes", nodes,
            "controller", ctl == null ? null : ctl.id());
      });
      step("describeLogDirs", () -> {
        List<Integer> ids = new ArrayList<>();
        for (Node n : admin.describeCluster().nodes().get(t, TimeUnit.SECONDS)) ids.add(n.id());
        Map<Integer, Map<String, LogDirDescription>> all = admin.describeLogDirs(ids).allDescriptions().get(t, TimeUnit.SECONDS);
        List<Object> dirs = new ArrayList<>();
        for (Map.Entry<Integer, Map<String, LogDirDescription>> b : all.entrySet()) {
          for (Map.Entry<String, LogDirDescription> d : b.getValue().entrySet()) {
            List<Object> replicas = new ArrayList<>();
            for (Map.Entry<org.apache.kafka.common.TopicPartition, ReplicaInfo> r : d.getValue().replicaInfos().entrySet()) {
              if (!r.getKey().topic().equals(topic)) continue;
              replicas.add(obj("partition", r.getKey().partition(), "size", r.getValue().size(),
                  "offsetLag", r.getValue().offsetLag(), "isFuture", r.getValue().isFuture()));
            }
            replicas.sort((x, y) -> Integer.compare((Integer) ((Map<?, ?>) x).get("partition"), (Integer) ((Map<?, ?>) y).get("partition")));
            dirs.add(obj("broker", b.getKey(), "path", d.getKey(), "error", d.getValue().error() == null ? null : d.getValue().error().toString(),
                "totalBytes", d.getValue().totalBytes().isPresent() ? d.getValue().totalBytes().getAsLong() : null,
                "usableBytes", d.getValue().usableBytes().isPresent() ? d.getValue().usableBytes().getAsLong() : null,
                "replicas", replicas));
          }
        }
        return dirs;
      });
      step("deleteTopics", () -> {
        admin.deleteTopics(List.of(topic)).all().get(t, TimeUnit.SECONDS);
        return null;
      });
      step("listTopics-after-delete", () -> new ArrayList<Object>(admin.listTopics().names().get(t, TimeUnit.SECONDS)));
      step("describeTopics-after-delete", () -> {
        admin.describeTopics(List.of(topic)).allTopicNames().get(t, TimeUnit.SECONDS);
        return null;
      });
    }
    emit(obj("type", "done", "failures", failures));
    return 0;
  }

  // ---------------------------------------------------------------------------------------------
  // Long-running processes for groups.test.ts

  /** Set once stdin carries a line {@code word}, or ends (the test process is gone). */
  private static java.util.concurrent.CountDownLatch stdinSays(String word) {
    java.util.concurrent.CountDownLatch latch = new java.util.concurrent.CountDownLatch(1);
    Thread t = new Thread(() -> {
      try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.trim().equals(word)) break;
        }
      } catch (java.io.IOException e) {
        // the end of stdin, as far as we are concerned
      } finally {
        latch.countDown();
      }
    }, "stdin");
    t.setDaemon(true);
    t.start();
    return latch;
  }

  private static int produceStream(Map<String, String> o) throws Exception {
    String topic = req(o, "topic");
    int partitions = Integer.parseInt(req(o, "partitions"));
    long intervalMs = Long.parseLong(o.getOrDefault("interval-ms", "20"));
    String tag = o.getOrDefault("tag", "v");
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, req(o, "bootstrap"));
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "godel-interop-java-stream");
    java.util.concurrent.CountDownLatch stop = stdinSays("stop");
    java.util.concurrent.atomic.AtomicInteger errors = new java.util.concurrent.atomic.AtomicInteger();
    int i = 0;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      while (!stop.await(i == 0 ? 0 : intervalMs, TimeUnit.MILLISECONDS)) {
        final int n = i++;
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, n % partitions, utf8("k-" + n), utf8(tag + "-" + n));
        r.headers().add("i", utf8(Integer.toString(n)));
        r.headers().add("src", utf8("java"));
        producer.send(r, (md, e) -> {
          if (e != null) {
            errors.incrementAndGet();
            emit(obj("type", "error", "i", n, "error", describe(e)));
          } else {
            emit(obj("type", "sent", "i", n, "partition", md.partition(), "offset", md.offset()));
          }
        });
      }
      producer.flush();
    }
    emit(obj("type", "done", "sent", i - errors.get(), "errors", errors.get()));
    return errors.get() == 0 ? 0 : 1;
  }

  private static int groupMember(Map<String, String> o) throws Exception {
    String topic = req(o, "topic");
    Properties p = consumerProps(o);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, req(o, "client-id"));
    p.put(ConsumerConfig.GROUP_ID_CONFIG, req(o, "group"));
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, o.getOrDefault("session-timeout-ms", "10000"));
    p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, o.getOrDefault("heartbeat-ms", "500"));
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "200");
    switch (o.getOrDefault("assignor", "default")) {
      case "range": p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RangeAssignor.class.getName()); break;
      case "roundrobin": p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, RoundRobinAssignor.class.getName()); break;
      case "cooperative-sticky": p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName()); break;
      case "default": break;
      default: usage();
    }
    java.util.concurrent.CountDownLatch leave = stdinSays("leave");
    // Processed and not yet committed: the next offset per partition.
    Map<TopicPartition, OffsetAndMetadata> processed = new HashMap<>();
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
    final KafkaConsumer<byte[], byte[]> c = consumer;
    java.util.function.Consumer<String> commitProcessed = (why) -> {
      if (processed.isEmpty()) return;
      List<Object> listed = new ArrayList<>();
      processed.entrySet().stream().sorted((x, y) -> Integer.compare(x.getKey().partition(), y.getKey().partition()))
          .forEach((e) -> listed.add(Arrays.asList(e.getKey().partition(), e.getValue().offset())));
      Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>(processed);
      processed.clear();
      try {
        c.commitSync(offsets, Duration.ofSeconds(30));
        emit(obj("type", "committed", "why", why, "offsets", listed));
      } catch (RuntimeException e) {
        emit(obj("type", "commit-failed", "why", why, "offsets", listed, "error", describe(e)));
      }
    };
    consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        commitProcessed.accept("revoked");
        emit(obj("type", "revoked", "partitions", sortedPartitions(partitions)));
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        emit(obj("type", "assigned", "partitions", sortedPartitions(partitions),
            "generation", c.groupMetadata().generationId(), "memberId", c.groupMetadata().memberId()));
      }
    });
    emit(obj("type", "started"));
    try {
      while (leave.getCount() > 0) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          emitRecord(r);
          processed.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
        commitProcessed.accept("poll");
      }
      commitProcessed.accept("leave");
      consumer.close(Duration.ofSeconds(30));
    } catch (RuntimeException e) {
      emit(obj("type", "fatal", "error", describe(e)));
      return 1;
    }
    emit(obj("type", "left"));
    return 0;
  }

  private static List<Object> sortedPartitions(Collection<TopicPartition> partitions) {
    List<Integer> ps = new ArrayList<>();
    for (TopicPartition tp : partitions) ps.add(tp.partition());
    ps.sort(null);
    return new ArrayList<>(ps);
  }

  @SuppressWarnings("deprecation")
  private static int groupAdmin(Map<String, String> o) {
    String group = req(o, "group");
    boolean empty = req(o, "phase").equals("empty");
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, req(o, "bootstrap"));
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "godel-interop-java-admin");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    final long t = 30;
    try (Admin admin = Admin.create(p)) {
      Step list = () -> {
        List<Object> out = new ArrayList<>();
        for (ConsumerGroupListing g : admin.listConsumerGroups().all().get(t, TimeUnit.SECONDS)) {
          out.add(obj("groupId", g.groupId(), "simple", g.isSimpleConsumerGroup(),
              "state", g.state().map(Object::toString).orElse(null)));
        }
        return out;
      };
      Step offsets = () -> {
        List<Object> out = new ArrayList<>();
        Map<TopicPartition, OffsetAndMetadata> m = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(t, TimeUnit.SECONDS);
        m.entrySet().stream()
            .sorted((x, y) -> x.getKey().toString().compareTo(y.getKey().toString()))
            .forEach((e) -> out.add(Arrays.asList(e.getKey().topic(), e.getKey().partition(), e.getValue() == null ? null : e.getValue().offset())));
        return out;
      };
      Step delete = () -> {
        admin.deleteConsumerGroups(List.of(group)).all().get(t, TimeUnit.SECONDS);
        return null;
      };
      step("listConsumerGroups", list);
      step("describeConsumerGroups", () -> {
        ConsumerGroupDescription d = admin.describeConsumerGroups(List.of(group)).all().get(t, TimeUnit.SECONDS).get(group);
        List<Object> members = new ArrayList<>();
        for (MemberDescription m : d.members()) {
          members.add(obj("consumerId", m.consumerId(), "clientId", m.clientId(), "host", m.host(),
              "assignment", sortedPartitions(m.assignment().topicPartitions()),
              "topics", new ArrayList<Object>(new java.util.TreeSet<String>(
                  m.assignment().topicPartitions().stream().map(TopicPartition::topic).collect(java.util.stream.Collectors.toSet())))));
        }
        members.sort((x, y) -> String.valueOf(((Map<?, ?>) x).get("clientId")).compareTo(String.valueOf(((Map<?, ?>) y).get("clientId"))));
        return obj("groupId", d.groupId(), "simple", d.isSimpleConsumerGroup(), "state", d.state().toString(),
            "partitionAssignor", d.partitionAssignor(), "coordinator", d.coordinator() == null ? null : d.coordinator().id(),
            "members", members);
      });
      step("listConsumerGroupOffsets", offsets);
      step("deleteConsumerGroups", delete);
      if (empty) {
        step("listConsumerGroups-after-delete", list);
        step("listConsumerGroupOffsets-after-delete", offsets);
        step("deleteConsumerGroups-again", delete);
      }
    }
    emit(obj("type", "done", "failures", failures));
    return 0;
  }

  // ---------------------------------------------------------------------------------------------

  private static Map<String, Object> describe(Throwable e) {
    return obj("class", e.getClass().getName(), "message", String.valueOf(e.getMessage()));
  }

  /** The kafka-clients version on the classpath (AppInfoParser moved between releases). */
  private static String clientVersion() {
    try (java.io.InputStream in = KafkaProducer.class.getResourceAsStream("/kafka/kafka-version.properties")) {
      Properties p = new Properties();
      if (in != null) p.load(in);
      return p.getProperty("version", "unknown");
    } catch (java.io.IOException e) {
      return "unknown";
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String str(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  private static Map<String, String> parseOptions(String[] args) {
    Map<String, String> m = new HashMap<>();
    for (int i = 1; i < args.length; i += 2) {
      if (!args[i].startsWith("--") || i + 1 >= args.length) usage();
      m.put(args[i].substring(2), args[i + 1]);
    }
    return m;
  }

  /**
   * offset-delete --group G --topic T --partitions 0,1,...: Admin.deleteConsumerGroupOffsets (OffsetDelete,
   * api key 47); one line per partition with its outcome ("ok" or the exception's simple name).
   */
  private static int offsetDelete(Map<String, String> o) {
    String group = req(o, "group");
    String topic = req(o, "topic");
    Set<TopicPartition> partitions = new HashSet<>();
    for (String s : req(o, "partitions").split(",")) partitions.add(new TopicPartition(topic, Integer.parseInt(s.trim())));
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, req(o, "bootstrap"));
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, "godel-interop-java-offset-delete");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    try (Admin admin = Admin.create(p)) {
      org.apache.kafka.clients.admin.DeleteConsumerGroupOffsetsResult result = admin.deleteConsumerGroupOffsets(group, partitions);
      String all;
      try {
        result.all().get(30, TimeUnit.SECONDS);
        all = "ok";
      } catch (ExecutionException e) {
        all = e.getCause().getClass().getSimpleName();
      } catch (Exception e) {
        all = e.getClass().getSimpleName();
      }
      emit(obj("type", "offset-delete", "group", group, "all", all));
      for (TopicPartition tp : partitions) {
        String outcome;
        try {
          result.partitionResult(tp).get(30, TimeUnit.SECONDS);
          outcome = "ok";
        } catch (ExecutionException e) {
          outcome = e.getCause().getClass().getSimpleName();
        } catch (Exception e) {
          outcome = e.getClass().getSimpleName();
        }
        emit(obj("type", "partition", "topic", tp.topic(), "partition", tp.partition(), "outcome", outcome));
      }
    }
    return 0;
  }

  private static String req(Map<String, String> o, String k) {
    String v = o.get(k);
    if (v == null) {
      System.err.println("missing --" + k);
      usage();
    }
    return v;
  }

  private static void usage() {
    System.err.println("usage: Main produce|consume-assign|consume-group|admin|produce-stream|group-member|group-admin --bootstrap HOST:PORT --topic T ...");
    Runtime.getRuntime().halt(2);
  }

  private static Map<String, Object> obj(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  private static synchronized void emit(Map<String, Object> m) {
    StringBuilder sb = new StringBuilder();
    json(sb, m);
    System.out.println(sb);
    System.out.flush();
  }

  private static void json(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String) {
      sb.append('"');
      for (char c : ((String) v).toCharArray()) {
        switch (c) {
          case '"': sb.append("\\\""); break;
          case '\\': sb.append("\\\\"); break;
          case '\n': sb.append("\\n"); break;
          case '\r': sb.append("\\r"); break;
          case '\t': sb.append("\\t"); break;
          default:
            if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
            else sb.append(c);
        }
      }
      sb.append('"');
    } else if (v instanceof Number || v instanceof Boolean) {
      sb.append(v);
    } else if (v instanceof Map) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        if (!first) sb.append(',');
        first = false;
        json(sb, String.valueOf(e.getKey()));
        sb.append(':');
        json(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof Collection) {
      sb.append('[');
      boolean first = true;
      for (Object x : (Collection<?>) v) {
        if (!first) sb.append(',');
        first = false;
        json(sb, x);
      }
      sb.append(']');
    } else {
      json(sb, v.toString());
    }
  }
}
