//! The Redis cache, shared by every API server: one Redis, or a Redis Cluster when the URL
//! names several nodes (`redis://a:7001,redis://b:7002,...`). Every key a script touches carries
//! one hash tag, so each script runs within one slot of a cluster.

use std::time::Duration;

use redis::{
    Client, Cmd, Pipeline, RedisFuture, Script, Value,
    aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig},
    cluster::{ClusterClient, ClusterConfig},
    cluster_async::ClusterConnection,
    cluster_routing::{RoutingInfo, SingleNodeRoutingInfo},
};

use super::{Cache, CacheError, ScanKeys, ScanReading, check_ttl};

/// INCRBY and PEXPIRE in one step, so a counter never lives without its deadline.
const INCREMENT_WITH_TTL: &str = r"
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
";

/// INCRBY only on a key that exists: a counter that vanished is seeded, never restarted at 0.
const INCREMENT_EXISTING: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.call('INCRBY', KEYS[1], ARGV[1])
end
return false
";

/// SADD only to a set that exists. Every set holds one marker beside its members (`#`;
/// members are stored as `m:` and the member), so a set seeded with no members still exists.
const ADD_TO_EXISTING_SET: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  return false
end
local added = redis.call('SADD', KEYS[1], ARGV[1])
return {added, redis.call('SCARD', KEYS[1]) - 1}
";

/// One scan of a code: its count and places (each only where there, as the two scripts above),
/// its first scan's time and, given a fourth key, its batch's records version. KEYS: count,
/// first, places[, version]; ARGV: '1' and the member when the place is known.
const TALLY_SCAN: &str = r"
local count = false
if redis.call('EXISTS', KEYS[1]) == 1 then
  count = redis.call('INCRBY', KEYS[1], 1)
end
local first = redis.call('GET', KEYS[2])
local places = false
if redis.call('EXISTS', KEYS[3]) == 1 then
  if ARGV[1] == '1' then
    redis.call('SADD', KEYS[3], ARGV[2])
  end
  places = redis.call('SCARD', KEYS[3]) - 1
end
local version = false
if #KEYS > 3 then
  version = redis.call('GET', KEYS[4])
end
return {count, first, places, version}
";

/// Makes a set (its marker and members, a few hundred a call) unless one is there.
const SEED_SET: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('SADD', KEYS[1], '#')
for i = 2, #ARGV, 500 do
  redis.call('SADD', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
";

/// How long Redis may take. A cache that is slower than the database it stands in front of is
/// worse than none: past these, the call fails at once and the circuit takes over.
#[derive(Clone, Copy, Debug)]
pub struct RedisTimeouts {
    pub connect: Duration,
    pub response: Duration,
}

impl Default for RedisTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_millis(100),
            response: Duration::from_millis(50),
        }
    }
}

/// A connection to one Redis, or to every node of a cluster (commands routed by their keys).
#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(conn) => conn.req_packed_command(cmd),
            Self::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(conn) => conn.req_packed_commands(pipeline, offset, count),
            Self::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(conn) => conn.get_db(),
            Self::Cluster(conn) => conn.get_db(),
        }
    }
}

impl Connection {
    /// Sends `cmd` to the given node of a cluster, or where its keys route it.
    async fn send_to(
        &mut self,
        cmd: Cmd,
        node: Option<&(String, u16)>,
    ) -> redis::RedisResult<Value> {
        match (self, node) {
            (Self::Cluster(cluster), Some((host, port))) => {
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port: *port,
                });
                cluster.route_command(cmd, routing).await
            }
            (conn, _) => conn.req_packed_command(&cmd).await,
        }
    }
}

#[derive(Clone)]
pub struct RedisCache {
    conn: Connection,
    prefix: String,
    increment: Script,
    increment_existing: Script,
    add_to_existing_set: Script,
    seed_set: Script,
    tally_scan: Script,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .finish()
    }
}

impl RedisCache {
    /// Connects, failing when the server does not answer. Every key is stored under `prefix`.
    pub async fn connect(
        url: &str,
        prefix: &str,
        timeouts: RedisTimeouts,
    ) -> Result<Self, CacheError> {
        let cache = Self::connect_lazily(url, prefix, timeouts)?;
        cache.ping().await?;
        Ok(cache)
    }

    /// Makes the connection without waiting for it: the first call connects, and a lost
    /// connection is made again in the background.
    pub fn connect_lazily(
        url: &str,
        prefix: &str,
        timeouts: RedisTimeouts,
    ) -> Result<Self, CacheError> {
        let nodes: Vec<&str> = url
            .split(',')
            .map(str::trim)
            .filter(|node| !node.is_empty())
            .collect();
        let conn = if nodes.len() > 1 {
            let client = ClusterClient::builder(nodes).retries(1).build()?;
            let config = ClusterConfig::new()
                .set_connection_timeout(timeouts.connect)
                .set_response_timeout(timeouts.response);
            Connection::Cluster(client.get_pending_async_connection_with_config(config))
        } else {
            let client = Client::open(url.trim())?;
            // One quick reconnection try per failure, not a retry loop that holds requests.
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(timeouts.connect))
                .set_response_timeout(Some(timeouts.response))
                .set_number_of_retries(1)
                .set_min_delay(Duration::from_millis(10))
                .set_max_delay(Duration::from_millis(50));
            Connection::Single(ConnectionManager::new_lazy_with_config(client, config)?)
        };
        Ok(Self {
            conn,
            prefix: prefix.to_owned(),
            increment: Script::new(INCREMENT_WITH_TTL),
            increment_existing: Script::new(INCREMENT_EXISTING),
            add_to_existing_set: Script::new(ADD_TO_EXISTING_SET),
            seed_set: Script::new(SEED_SET),
            tally_scan: Script::new(TALLY_SCAN),
        })
    }

    /// Whether this cache speaks to a Redis Cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self.conn, Connection::Cluster(_))
    }

    /// Removes keys (named without the prefix) in one call.
    pub async fn delete_many(&self, keys: &[String]) -> Result<(), CacheError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut conn = self.conn.clone();
        let mut command = redis::cmd("UNLINK");
        for key in keys {
            command.arg(self.key(key));
        }
        command.query_async::<i64>(&mut conn).await?;
        Ok(())
    }

    /// Removes every key under this cache's prefix, on every primary of a cluster; answers how
    /// many.
    pub async fn delete_all(&self) -> Result<u64, CacheError> {
        let mut removed = 0;
        match &self.conn {
            Connection::Single(_) => removed += self.delete_all_on(None).await?,
            Connection::Cluster(_) => {
                for (host, port) in self.primaries().await? {
                    removed += self.delete_all_on(Some((host, port))).await?;
                }
            }
        }
        Ok(removed)
    }

    /// The cluster's primaries, as `CLUSTER SLOTS` tells them: one per slot range's first node.
    async fn primaries(&self) -> Result<Vec<(String, u16)>, CacheError> {
        let mut conn = self.conn.clone();
        let ranges: Vec<Vec<Value>> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query_async(&mut conn)
            .await?;
        let mut primaries: Vec<(String, u16)> = ranges
            .iter()
            .filter_map(|range| {
                // The node: its host, port, id and more.
                let node: Vec<Value> = redis::from_redis_value(range.get(2)?.clone()).ok()?;
                let host = redis::from_redis_value(node.first()?.clone()).ok()?;
                let port = redis::from_redis_value(node.get(1)?.clone()).ok()?;
                Some((host, port))
            })
            .collect();
        primaries.sort();
        primaries.dedup();
        Ok(primaries)
    }

    /// SCANs one node (the only one, or the given primary of a cluster) and UNLINKs what it
    /// finds under the prefix.
    async fn delete_all_on(&self, node: Option<(String, u16)>) -> Result<u64, CacheError> {
        let mut conn = self.conn.clone();
        let pattern = format!("{}*", self.prefix);
        let mut cursor: u64 = 0;
        let mut removed = 0;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000);
            let reply = conn.send_to(scan, node.as_ref()).await?;
            let (next, keys): (u64, Vec<String>) =
                redis::from_redis_value(reply).map_err(redis::RedisError::from)?;
            if !keys.is_empty() {
                // A cluster splits the keys by slot and adds up the answers.
                removed += redis::cmd("UNLINK")
                    .arg(&keys)
                    .query_async::<u64>(&mut conn)
                    .await?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    fn kind(&self) -> &'static str {
        if self.is_cluster() {
            "redis-cluster"
        } else {
            "redis"
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut conn = self.conn.clone();
        Ok(redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?)
    }

    async fn set(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        check_ttl(ttl)?;
        let mut conn = self.conn.clone();
        redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .query_async::<()>(&mut conn)
            .await?;
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        check_ttl(ttl)?;
        let mut conn = self.conn.clone();
        let stored: Option<String> = redis::cmd("SET")
            .arg(self.key(key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl))
            .arg("NX")
            .query_async(&mut conn)
            .await?;
        Ok(stored.is_some())
    }

    async fn delete(&self, key: &str) -> Result<bool, CacheError> {
        let mut conn = self.conn.clone();
        let removed: i64 = redis::cmd("DEL")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await?;
        Ok(removed > 0)
    }

    async fn increment(&self, key: &str, by: i64, ttl: Duration) -> Result<i64, CacheError> {
        check_ttl(ttl)?;
        let mut conn = self.conn.clone();
        self.increment
            .key(self.key(key))
            .arg(by)
            .arg(millis(ttl))
            .invoke_async(&mut conn)
            .await
            .map_err(|e| {
                if e.to_string().contains("not an integer") || e.to_string().contains("WRONGTYPE") {
                    CacheError::NotAnInteger(key.to_owned())
                } else {
                    CacheError::Redis(e)
                }
            })
    }

    async fn increment_existing(&self, key: &str, by: i64) -> Result<Option<i64>, CacheError> {
        let mut conn = self.conn.clone();
        self.increment_existing
            .key(self.key(key))
            .arg(by)
            .invoke_async(&mut conn)
            .await
            .map_err(|e| {
                if e.to_string().contains("not an integer") || e.to_string().contains("WRONGTYPE") {
                    CacheError::NotAnInteger(key.to_owned())
                } else {
                    CacheError::Redis(e)
                }
            })
    }

    async fn add_to_existing_set(
        &self,
        key: &str,
        member: &str,
    ) -> Result<Option<(bool, i64)>, CacheError> {
        let mut conn = self.conn.clone();
        let answer: Option<(i64, i64)> = self
            .add_to_existing_set
            .key(self.key(key))
            .arg(format!("m:{member}"))
            .invoke_async(&mut conn)
            .await
            .map_err(|e| {
                if e.to_string().contains("WRONGTYPE") {
                    CacheError::NotASet(key.to_owned())
                } else {
                    CacheError::Redis(e)
                }
            })?;
        Ok(answer.map(|(added, size)| (added == 1, size)))
    }

    async fn set_size(&self, key: &str) -> Result<Option<i64>, CacheError> {
        let mut conn = self.conn.clone();
        // A set always holds its marker: none at all means no set.
        let size: i64 = redis::cmd("SCARD")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await
            .map_err(|e| {
                if e.to_string().contains("WRONGTYPE") {
                    CacheError::NotASet(key.to_owned())
                } else {
                    CacheError::Redis(e)
                }
            })?;
        Ok((size > 0).then_some(size - 1))
    }

    async fn seed_set(
        &self,
        key: &str,
        members: &[String],
        ttl: Duration,
    ) -> Result<(), CacheError> {
        check_ttl(ttl)?;
        let mut conn = self.conn.clone();
        let mut call = self.seed_set.key(self.key(key));
        call.arg(millis(ttl));
        for member in members {
            call.arg(format!("m:{member}"));
        }
        call.invoke_async::<i64>(&mut conn).await?;
        Ok(())
    }

    async fn tally_scan(
        &self,
        keys: ScanKeys<'_>,
        place: Option<&str>,
    ) -> Result<ScanReading, CacheError> {
        let mut conn = self.conn.clone();
        let mut call = self.tally_scan.key(self.key(keys.count));
        call.key(self.key(keys.first)).key(self.key(keys.places));
        if let Some(version) = keys.version {
            call.key(self.key(version));
        }
        match place {
            Some(place) => call.arg("1").arg(format!("m:{place}")),
            None => call.arg("0"),
        };
        let (count, first, places, version) = call.invoke_async(&mut conn).await.map_err(|e| {
            if e.to_string().contains("not an integer") {
                CacheError::NotAnInteger(keys.count.to_owned())
            } else if e.to_string().contains("WRONGTYPE") {
                CacheError::NotASet(keys.places.to_owned())
            } else {
                CacheError::Redis(e)
            }
        })?;
        Ok(ScanReading {
            version,
            count,
            first,
            places,
        })
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        Ok(())
    }

    async fn clear(&self) -> Result<(), CacheError> {
        self.delete_all().await.map(|_| ())
    }
}
