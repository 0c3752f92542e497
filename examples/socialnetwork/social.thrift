/*
 * social.thrift: the services of the Seer Social Network demo, a subset of
 * DeathStarBench's socialNetwork named as sim/topology/topologies/
 * social-network.yaml names them.
 *
 * Regenerate with (from this directory; `make generate` does it):
 *   thrift -r --gen go:package_prefix=github.com/seer-qos/seer/examples/socialnetwork/,skip_remote -out . social.thrift && gofmt -w socialthrift
 */

namespace go socialthrift

struct Post {
  1: required i64 post_id
  2: required i64 creator_id
  3: required string text
  4: required list<i64> user_mentions
  5: required list<string> urls
  6: required i64 timestamp_ns
}

struct TextResult {
  1: required string text
  2: required list<i64> user_mentions
  3: required list<string> urls
}

exception NotFound {
  1: required string key
}

/** Cache is a memcached-like key-value cache (the memcached and redis tiers). */
service Cache {
  binary get(1: string key) throws (1: NotFound notFound)
  void put(1: string key, 2: binary value)
}

/** Storage is a mongodb-like document store (the mongodb tiers). */
service Storage {
  binary find(1: string key) throws (1: NotFound notFound)
  void insert(1: string key, 2: binary value)
}

/** UniqueId hands out post ids. */
service UniqueId {
  i64 composeUniqueId(1: i64 req_id)
}

/** UrlShorten shortens the URLs of a post, storing the mapping. */
service UrlShorten {
  list<string> shortenUrls(1: list<string> urls)
}

/** UserMention resolves the user names a post mentions. */
service UserMention {
  list<i64> composeUserMentions(1: list<string> usernames)
}

/** Text parses a post's text into mentions and shortened URLs. */
service Text {
  TextResult composeText(1: string text)
}

/** User resolves the creator of a post. */
service User {
  i64 composeCreator(1: i64 user_id)
}

/** SocialGraph knows who follows whom. */
service SocialGraph {
  list<i64> getFollowers(1: i64 user_id)
}

/** PostStorage stores posts and reads them back by id. */
service PostStorage {
  void storePost(1: Post post)
  list<Post> readPosts(1: list<i64> post_ids)
}

/** UserTimeline is the posts a user wrote. */
service UserTimeline {
  void writeUserTimeline(1: i64 user_id, 2: i64 post_id, 3: i64 timestamp_ns)
  list<Post> readUserTimeline(1: i64 user_id, 2: i32 start, 3: i32 stop)
}

/** HomeTimeline is the posts of the users a user follows. */
service HomeTimeline {
  void writeHomeTimeline(1: i64 user_id, 2: i64 post_id, 3: i64 timestamp_ns)
  list<Post> readHomeTimeline(1: i64 user_id, 2: i32 start, 3: i32 stop)
}

/** ComposePost composes a post from its parts and fans it out. */
service ComposePost {
  void composePost(1: i64 user_id, 2: string text)
}

/** Nginx is the front end: the three request types of the load. */
service Nginx {
  void composePost(1: i64 user_id, 2: string text)
  list<Post> readHomeTimeline(1: i64 user_id, 2: i32 start, 3: i32 stop)
  list<Post> readUserTimeline(1: i64 user_id, 2: i32 start, 3: i32 stop)
}
