# A two-node RabbitMQ cluster on loopback for the broker tests, sourced after scripts/testbed.sh
# (which gives $T, PIDS, fail, skip, free_port, issue). Debian's rabbitmq-server, installed here
# when missing (as scripts/bootstrap installs); each node is started by its script from
# /usr/lib/rabbitmq/bin as root (not /usr/sbin's wrapper, which becomes the rabbitmq user), with
# its own node name, ports, data folder and log folder under $T/rabbit, one Erlang cookie for
# both, and its own epmd on a free port: nothing here touches a node or an epmd another run
# started. Every listener is on 127.0.0.1. Each node's beam process is recorded by PID (PIDS, so
# that testbed's cleanup ends it), and rabbit_kill kills one by PID.

RMQ_BIN=/usr/lib/rabbitmq/bin

# rabbit_install: rabbitmq-server from Debian when missing; skip (77) only when it cannot be had.
rabbit_install() {
	[ -x "$RMQ_BIN/rabbitmq-server" ] && return 0
	[ "$(id -u)" = 0 ] || skip "rabbitmq-server is not installed and installing it needs root"
	echo "installing rabbitmq-server (apt-get)"
	# Debian's postinst starts the system's own node (all interfaces, default ports), which
	# would outlive the test: a policy-rc.d that refuses every start, for the install only,
	# unless the machine has one (containers do).
	local policy=
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d &&
			policy=/usr/sbin/policy-rc.d
	fi
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$T/apt.log" 2>&1 &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			rabbitmq-server >>"$T/apt.log" 2>&1
	local rc=$?
	[ -z "$policy" ] || rm -f "$policy"
	[ $rc = 0 ] || skip "rabbitmq-server cannot be installed: $(tail -1 "$T/apt.log")"
	[ -x "$RMQ_BIN/rabbitmq-server" ] || skip "rabbitmq-server installed no $RMQ_BIN/rabbitmq-server"
}

# rabbit_run NODE CMD...: CMD in the environment of node NODE (a or b): its node name, folders,
# configuration, distribution port, the shared cookie (in $T/rabbit/home) and our epmd.
rabbit_run() {
	local n=$1 R=$T/rabbit
	shift
	(
		export HOME=$R/home ERL_EPMD_PORT=$RMQ_EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1
		export RABBITMQ_NODENAME=rabbit-$n@localhost
		export RABBITMQ_CONFIG_FILE=$R/$n/rabbitmq.conf
		export RABBITMQ_ADVANCED_CONFIG_FILE=$R/$n/advanced.config
		export RABBITMQ_ENABLED_PLUGINS_FILE=$R/enabled_plugins
		export RABBITMQ_MNESIA_BASE=$R/$n/mnesia RABBITMQ_LOG_BASE=$R/$n/log
		export RABBITMQ_PID_FILE=$R/$n/pid
		RABBITMQ_DIST_PORT=$(eval echo "\$RMQ_DIST_$n")
		export RABBITMQ_DIST_PORT
		# Erlang distribution on loopback only; one scheduler thread, no busy waiting: the
		# machine is shared.
		export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1} +S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none"
		export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
		# A crash dump (erl_crash.dump, MnesiaCore.*) lands in the working directory.
		cd "$R/$n" || exit 1
		exec "$@"
	)
}
# rmqctl NODE ARGS...: rabbitmqctl against node NODE, bounded.
rmqctl() {
	local n=$1
	shift
	rabbit_run "$n" timeout 60 "$RMQ_BIN/rabbitmqctl" "$@"
}

# rabbit_conf NODE: node NODE's configuration: MQTT over TLS only, on $RMQ_MQTT_<NODE>, the
# client's certificate required and checked against the project's CA, its CN the user name.
rabbit_conf() {
	local n=$1 R=$T/rabbit
	mkdir -p "$R/$n/mnesia" "$R/$n/log"
	cat >"$R/$n/rabbitmq.conf" <<CONF
listeners.tcp = none
mqtt.listeners.tcp = none
mqtt.listeners.ssl.default = 127.0.0.1:$(eval echo "\$RMQ_MQTT_$n")
mqtt.ssl_cert_login = true
ssl_cert_login_from = common_name
mqtt.allow_anonymous = false
mqtt.vhost = /
mqtt.exchange = amq.topic
ssl_options.cacertfile = $T/pki/ca.crt
ssl_options.certfile = $T/pki/localhost.crt
ssl_options.keyfile = $T/pki/localhost.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
loopback_users = none
log.console = false
log.file.level = info
cluster_partition_handling = ignore
CONF
	echo '[].' >"$R/$n/advanced.config"
}

# rabbit_start NODE: starts node NODE (in the background), sets RMQ_PID_<NODE> to its beam's PID.
rabbit_start() {
	local n=$1 R=$T/rabbit pid beam i
	rabbit_run "$n" "$RMQ_BIN/rabbitmq-server" >>"$R/$n/out.log" 2>&1 </dev/null &
	pid=$!
	PIDS+=("$pid")
	# The beam is what a kill must hit: the script's child, the script the background job's
	# ($pid, a subshell).
	for i in $(seq 100); do
		beam=$(pgrep -x beam.smp -P "$(pgrep -d, -P "$pid")" 2>/dev/null | head -1)
		[ -n "$beam" ] && break
		sleep 0.1
	done
	[ -n "$beam" ] || fail "rabbit-$n did not start: $(tail -3 "$R/$n/out.log")"
	PIDS+=("$beam")
	eval "RMQ_SCRIPT_$n=$pid RMQ_PID_$n=$beam"
}
# rabbit_wait NODE: until node NODE has booted, at most 120 s (await_startup gives up at once
# on a node that has not yet registered with epmd: hence the loop).
rabbit_wait() {
	local n=$1 i pid
	pid=$(eval echo "\$RMQ_PID_$n")
	for i in $(seq 60); do
		kill -0 "$pid" 2>/dev/null || fail "rabbit-$n exited: $(tail -3 "$T/rabbit/$n/out.log")"
		rmqctl "$n" -q await_startup --timeout 10 >"$T/rabbit/$n/await.out" 2>&1 && return 0
		sleep 1
	done
	fail "rabbit-$n did not start within 120 s: $(tail -3 "$T/rabbit/$n/out.log")"
}
# rabbit_kill NODE [SIGNAL]: node NODE's beam, by PID (default KILL), and until it is gone.
rabbit_kill() {
	local n=$1 pid i
	pid=$(eval echo "\$RMQ_PID_$n")
	kill -"${2:-KILL}" "$pid" 2>/dev/null
	for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "rabbit-$n (pid $pid) did not exit"
	wait "$(eval echo "\$RMQ_SCRIPT_$n")" 2>/dev/null
	return 0
}

# rabbit_stop: every node this run started, then its epmd, by PID, before testbed's cleanup
# ends the rest: an epmd ended first could be started again, as a daemon, by a node's tools.
# KILL: the nodes' data is scratch.
rabbit_stop() {
	local n pid
	for n in a b; do
		pid=$(eval echo "\${RMQ_PID_$n:-}")
		[ -n "$pid" ] || continue
		kill -KILL "$pid" 2>/dev/null
		wait "$(eval echo "\$RMQ_SCRIPT_$n")" 2>/dev/null
	done
	[ -z "${RMQ_EPMD_PID:-}" ] || { kill "$RMQ_EPMD_PID" 2>/dev/null; wait "$RMQ_EPMD_PID" 2>/dev/null; }
	return 0
}

# rabbit_cluster: epmd and two nodes, a and b, b joined to a; the MQTT plugin on both.
rabbit_cluster() {
	local R=$T/rabbit
	# cleanup's status is the test's: $? is kept across rabbit_stop.
	trap 'rc=$?; rabbit_stop; (exit $rc); cleanup' EXIT
	mkdir -p "$R/home"
	chmod 700 "$R/home"
	head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$R/home/.erlang.cookie"
	chmod 400 "$R/home/.erlang.cookie"
	echo '[rabbitmq_mqtt].' >"$R/enabled_plugins"
	RMQ_EPMD_PORT=$(free_port)
	RMQ_DIST_a=$(free_port) RMQ_DIST_b=$(free_port)
	RMQ_MQTT_a=$(free_port) RMQ_MQTT_b=$(free_port)
	# Our own epmd, on loopback and a port of its own, in the foreground: ended by PID.
	epmd -address 127.0.0.1 -port "$RMQ_EPMD_PORT" >"$R/epmd.log" 2>&1 &
	RMQ_EPMD_PID=$!
	PIDS+=("$RMQ_EPMD_PID")
	rabbit_conf a
	rabbit_conf b
	rabbit_start a
	rabbit_start b
	rabbit_wait a
	rabbit_wait b
	rmqctl b -q stop_app >/dev/null || fail "rabbit-b stop_app"
	rmqctl b -q join_cluster rabbit-a@localhost >"$R/join.out" 2>&1 || fail "rabbit-b cannot join rabbit-a: $(cat "$R/join.out")"
	rmqctl b -q start_app >/dev/null || fail "rabbit-b start_app"
	rabbit_wait b
}

# rabbit_users: the product's identities as RabbitMQ users, with the permissions of the
# Mosquitto ACL that garagectl broker-config writes (testbed's start_broker has the same model),
# for prefix garage and device garage. A user has no password: it logs in only by its
# certificate's CN (ssl_cert_login). RabbitMQ's MQTT plugin publishes on the topic exchange
# amq.topic with the topic as routing key, '/' turned into '.', and subscribes by binding with
# the filter as binding key ('+' becomes '*', '#' stays); topic permissions are regular
# expressions over those keys: write is checked on PUBLISH, read on SUBSCRIBE (binding keys
# with their wildcards). The vhost permissions let each MQTT session make, bind and read its own
# subscription queue (mqtt-subscription-CLIENTID) and publish to amq.topic, nothing else.
rabbit_users() {
	local u
	for u in garage.local ctl.local ha.local; do
		rmqctl a -q add_user "$u" "$(head -c 24 /dev/urandom | base64)" >/dev/null || fail "add_user $u"
		rmqctl a -q clear_password "$u" >/dev/null || fail "clear_password $u"
		rmqctl a -q set_permissions -p / "$u" '^mqtt-subscription-' \
			'^(amq\.topic|mqtt-subscription-.*)$' '^(amq\.topic|mqtt-subscription-.*)$' >/dev/null ||
			fail "set_permissions $u"
	done
	# The device: writes its availability, each door's state, its events, key list and
	# certificate request, and its own discovery subtree; reads its commands, admin messages,
	# enrollment requests, renewed certificate, Home Assistant's status, and its availability
	# (an "offline" there while it is connected, a late will, it answers with "online").
	rmqctl a -q set_topic_permissions -p / garage.local amq.topic \
		'^garage\.garage\.(availability|events|keys|csr|[a-z0-9_-]+\.state)$|^homeassistant\.cover\.garage\..*$' \
		'^garage\.garage\.(availability|admin|enroll|cert|refresh|([a-z0-9_-]+|\*)\.(cmd|ha_cmd))$|^homeassistant\.status$' \
		>/dev/null || fail "set_topic_permissions garage.local"
	# The controller, the reverse: writes commands, admin messages, enrollment requests and
	# renewed certificates; reads everything under the prefix and Home Assistant's subtree.
	rmqctl a -q set_topic_permissions -p / ctl.local amq.topic \
		'^garage\.garage\.[a-z0-9_-]+\.cmd$|^garage\.[a-z0-9_-]+\.(admin|enroll|cert|refresh)$' \
		'^garage\..*$|^homeassistant\..*$' \
		>/dev/null || fail "set_topic_permissions ctl.local"
	# Home Assistant: unsigned commands (ha_cmd), reads the prefix, reads and writes its own.
	rmqctl a -q set_topic_permissions -p / ha.local amq.topic \
		'^garage\.garage\.[a-z0-9_-]+\.ha_cmd$|^homeassistant\..*$' \
		'^garage\..*$|^homeassistant\..*$' \
		>/dev/null || fail "set_topic_permissions ha.local"
}
