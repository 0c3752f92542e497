package socialnetwork

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	st "github.com/seer-qos/seer/examples/socialnetwork/socialthrift"
)

// parallel runs fs concurrently, as the services issue independent calls.
func parallel(fs ...func() error) error {
	errs := make([]error, len(fs))
	var wg sync.WaitGroup
	for i, f := range fs[1:] {
		wg.Go(func() { errs[i+1] = f() })
	}
	errs[0] = fs[0]()
	wg.Wait()
	return errors.Join(errs...)
}

func encodeIDs(ids []int64) []byte {
	v := make([]byte, 8*len(ids))
	for i, id := range ids {
		binary.LittleEndian.PutUint64(v[8*i:], uint64(id))
	}
	return v
}

// uniqueIDHandler serves UniqueId.
type uniqueIDHandler struct {
	w    *workers
	next atomic.Int64
}

func (h *uniqueIDHandler) ComposeUniqueId(ctx context.Context, _ int64) (int64, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return 0, err
	}
	return h.next.Add(1), nil
}

// urlShortenHandler serves UrlShorten.
type urlShortenHandler struct {
	w  *workers
	db *connPool[*st.StorageClient]
}

func (h *urlShortenHandler) ShortenUrls(ctx context.Context, urls []string) ([]string, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	short := make([]string, len(urls))
	for i, u := range urls {
		short[i] = fmt.Sprintf("http://short-url/%x", valueOf(u)[:5])
	}
	if len(urls) == 0 {
		return short, nil
	}
	err := h.db.Call(func(c *st.StorageClient) error {
		return c.Insert(ctx, "urls:"+strings.Join(short, ","), []byte(strings.Join(urls, "\n")))
	})
	if err != nil {
		return nil, fmt.Errorf("store short urls: %w", err)
	}
	return short, nil
}

// userMentionHandler serves UserMention.
type userMentionHandler struct {
	w     *workers
	cache *connPool[*st.CacheClient]
	db    *connPool[*st.StorageClient]
}

func (h *userMentionHandler) ComposeUserMentions(ctx context.Context, names []string) ([]int64, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, nil
	}
	v, err := readThrough(ctx, h.cache, h.db, "user-ids:"+strings.Join(names, ","))
	if err != nil {
		return nil, fmt.Errorf("resolve mentions: %w", err)
	}
	return idsOf(v, len(names)), nil
}

// textHandler serves Text.
type textHandler struct {
	w       *workers
	shorten *connPool[*st.UrlShortenClient]
	mention *connPool[*st.UserMentionClient]
}

func (h *textHandler) ComposeText(ctx context.Context, text string) (*st.TextResult_, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	var urls, names []string
	for _, word := range strings.Fields(text) {
		switch {
		case strings.HasPrefix(word, "http://"), strings.HasPrefix(word, "https://"):
			urls = append(urls, word)
		case strings.HasPrefix(word, "@"):
			names = append(names, word[1:])
		}
	}
	res := &st.TextResult_{Text: text}
	err := parallel(
		func() error {
			return h.shorten.Call(func(c *st.UrlShortenClient) (err error) {
				res.Urls, err = c.ShortenUrls(ctx, urls)
				return err
			})
		},
		func() error {
			return h.mention.Call(func(c *st.UserMentionClient) (err error) {
				res.UserMentions, err = c.ComposeUserMentions(ctx, names)
				return err
			})
		})
	if err != nil {
		return nil, fmt.Errorf("compose text: %w", err)
	}
	return res, nil
}

// userHandler serves User.
type userHandler struct {
	w     *workers
	cache *connPool[*st.CacheClient]
	db    *connPool[*st.StorageClient]
}

func (h *userHandler) ComposeCreator(ctx context.Context, userID int64) (int64, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return 0, err
	}
	if _, err := readThrough(ctx, h.cache, h.db, fmt.Sprintf("user:%d", userID)); err != nil {
		return 0, fmt.Errorf("read user %d: %w", userID, err)
	}
	return userID, nil
}

// socialGraphHandler serves SocialGraph.
type socialGraphHandler struct {
	w     *workers
	cache *connPool[*st.CacheClient]
	db    *connPool[*st.StorageClient]
}

func (h *socialGraphHandler) GetFollowers(ctx context.Context, userID int64) ([]int64, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	v, err := readThrough(ctx, h.cache, h.db, fmt.Sprintf("followers:%d", userID))
	if err != nil {
		return nil, fmt.Errorf("read followers of %d: %w", userID, err)
	}
	return idsOf(v, 8), nil
}

// postStorageHandler serves PostStorage.
type postStorageHandler struct {
	w     *workers
	cache *connPool[*st.CacheClient]
	db    *connPool[*st.StorageClient]
}

func (h *postStorageHandler) StorePost(ctx context.Context, p *st.Post) error {
	if err := h.w.do(ctx, 1); err != nil {
		return err
	}
	key, v := fmt.Sprintf("post:%d", p.PostID), []byte(p.Text)
	if err := h.db.Call(func(c *st.StorageClient) error { return c.Insert(ctx, key, v) }); err != nil {
		return fmt.Errorf("store post %d: %w", p.PostID, err)
	}
	if err := h.cache.Call(func(c *st.CacheClient) error { return c.Put(ctx, key, v) }); err != nil {
		return fmt.Errorf("cache post %d: %w", p.PostID, err)
	}
	return nil
}

// ReadPosts reads the posts in one multi-get, as DeathStarBench's
// post-storage does.
func (h *postStorageHandler) ReadPosts(ctx context.Context, ids []int64) ([]*st.Post, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	v, err := readThrough(ctx, h.cache, h.db, fmt.Sprintf("posts:%x", encodeIDs(ids)[:8]))
	if err != nil {
		return nil, fmt.Errorf("read %d posts: %w", len(ids), err)
	}
	posts := make([]*st.Post, len(ids))
	for i, id := range ids {
		posts[i] = &st.Post{PostID: id, CreatorID: idsOf(v, 1)[0], Text: fmt.Sprintf("post %d", id),
			UserMentions: []int64{}, Urls: []string{}}
	}
	return posts, nil
}

// timelineLength is how many posts a timeline read returns at most.
const timelineLength = 8

// userTimelineHandler serves UserTimeline.
type userTimelineHandler struct {
	w     *workers
	cache *connPool[*st.CacheClient]
	db    *connPool[*st.StorageClient]
	posts *connPool[*st.PostStorageClient]
}

func (h *userTimelineHandler) WriteUserTimeline(ctx context.Context, userID, postID, _ int64) error {
	if err := h.w.do(ctx, 1); err != nil {
		return err
	}
	key, v := fmt.Sprintf("user-timeline:%d", userID), encodeIDs([]int64{postID})
	if err := h.db.Call(func(c *st.StorageClient) error { return c.Insert(ctx, key, v) }); err != nil {
		return fmt.Errorf("store user timeline of %d: %w", userID, err)
	}
	if err := h.cache.Call(func(c *st.CacheClient) error { return c.Put(ctx, key, v) }); err != nil {
		return fmt.Errorf("cache user timeline of %d: %w", userID, err)
	}
	return nil
}

func (h *userTimelineHandler) ReadUserTimeline(ctx context.Context, userID int64, start, stop int32) ([]*st.Post, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	v, err := readThrough(ctx, h.cache, h.db, fmt.Sprintf("user-timeline:%d", userID))
	if err != nil {
		return nil, fmt.Errorf("read user timeline of %d: %w", userID, err)
	}
	return readPosts(ctx, h.posts, window(idsOf(v, timelineLength), start, stop))
}

// homeTimelineHandler serves HomeTimeline.
type homeTimelineHandler struct {
	w     *workers
	cache *connPool[*st.CacheClient]
	graph *connPool[*st.SocialGraphClient]
	posts *connPool[*st.PostStorageClient]
}

func (h *homeTimelineHandler) WriteHomeTimeline(ctx context.Context, userID, postID, _ int64) error {
	if err := h.w.do(ctx, 1); err != nil {
		return err
	}
	var followers []int64
	err := h.graph.Call(func(c *st.SocialGraphClient) (err error) {
		followers, err = c.GetFollowers(ctx, userID)
		return err
	})
	if err != nil {
		return fmt.Errorf("followers of %d: %w", userID, err)
	}
	key := fmt.Sprintf("home-timeline:%d", followers[0]) // one update stands for the fan-out
	if err := h.cache.Call(func(c *st.CacheClient) error { return c.Put(ctx, key, encodeIDs([]int64{postID})) }); err != nil {
		return fmt.Errorf("update %s: %w", key, err)
	}
	return nil
}

func (h *homeTimelineHandler) ReadHomeTimeline(ctx context.Context, userID int64, start, stop int32) ([]*st.Post, error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	key := fmt.Sprintf("home-timeline:%d", userID)
	var v []byte
	err := h.cache.Call(func(c *st.CacheClient) (err error) {
		v, err = c.Get(ctx, key)
		return err
	})
	if nf := (*st.NotFound)(nil); errors.As(err, &nf) {
		v, err = valueOf(key), nil // a timeline not in redis is rebuilt from the key
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return readPosts(ctx, h.posts, window(idsOf(v, timelineLength), start, stop))
}

func window(ids []int64, start, stop int32) []int64 {
	lo, hi := max(0, int(start)), min(len(ids), int(stop))
	if lo >= hi {
		return nil
	}
	return ids[lo:hi]
}

func readPosts(ctx context.Context, p *connPool[*st.PostStorageClient], ids []int64) ([]*st.Post, error) {
	var posts []*st.Post
	err := p.Call(func(c *st.PostStorageClient) (err error) {
		posts, err = c.ReadPosts(ctx, ids)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("read posts: %w", err)
	}
	return posts, nil
}

// composePostHandler serves ComposePost.
type composePostHandler struct {
	w        *workers
	text     *connPool[*st.TextClient]
	user     *connPool[*st.UserClient]
	uniqueID *connPool[*st.UniqueIdClient]
	posts    *connPool[*st.PostStorageClient]
	userTL   *connPool[*st.UserTimelineClient]
	homeTL   *connPool[*st.HomeTimelineClient]
}

func (h *composePostHandler) ComposePost(ctx context.Context, userID int64, text string) error {
	if err := h.w.do(ctx, 1); err != nil {
		return err
	}
	post := &st.Post{CreatorID: userID, TimestampNs: time.Now().UnixNano()}
	err := parallel(
		func() error {
			return h.text.Call(func(c *st.TextClient) error {
				r, err := c.ComposeText(ctx, text)
				if err == nil {
					post.Text, post.UserMentions, post.Urls = r.Text, r.UserMentions, r.Urls
				}
				return err
			})
		},
		func() error {
			return h.user.Call(func(c *st.UserClient) (err error) {
				_, err = c.ComposeCreator(ctx, userID)
				return err
			})
		},
		func() error {
			return h.uniqueID.Call(func(c *st.UniqueIdClient) (err error) {
				post.PostID, err = c.ComposeUniqueId(ctx, userID)
				return err
			})
		})
	if err != nil {
		return fmt.Errorf("compose post of %d: %w", userID, err)
	}
	if post.UserMentions == nil {
		post.UserMentions = []int64{}
	}
	if post.Urls == nil {
		post.Urls = []string{}
	}
	if err := h.posts.Call(func(c *st.PostStorageClient) error { return c.StorePost(ctx, post) }); err != nil {
		return fmt.Errorf("store post of %d: %w", userID, err)
	}
	ts := post.TimestampNs
	return parallel(
		func() error {
			return h.userTL.Call(func(c *st.UserTimelineClient) error {
				return c.WriteUserTimeline(ctx, userID, post.PostID, ts)
			})
		},
		func() error {
			return h.homeTL.Call(func(c *st.HomeTimelineClient) error {
				return c.WriteHomeTimeline(ctx, userID, post.PostID, ts)
			})
		})
}

// nginxHandler serves Nginx, the front end.
type nginxHandler struct {
	w       *workers
	compose *connPool[*st.ComposePostClient]
	homeTL  *connPool[*st.HomeTimelineClient]
	userTL  *connPool[*st.UserTimelineClient]
}

func (h *nginxHandler) ComposePost(ctx context.Context, userID int64, text string) error {
	if err := h.w.do(ctx, 1); err != nil {
		return err
	}
	return h.compose.Call(func(c *st.ComposePostClient) error { return c.ComposePost(ctx, userID, text) })
}

func (h *nginxHandler) ReadHomeTimeline(ctx context.Context, userID int64, start, stop int32) (posts []*st.Post, err error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	err = h.homeTL.Call(func(c *st.HomeTimelineClient) (err error) {
		posts, err = c.ReadHomeTimeline(ctx, userID, start, stop)
		return err
	})
	return posts, err
}

func (h *nginxHandler) ReadUserTimeline(ctx context.Context, userID int64, start, stop int32) (posts []*st.Post, err error) {
	if err := h.w.do(ctx, 1); err != nil {
		return nil, err
	}
	err = h.userTL.Call(func(c *st.UserTimelineClient) (err error) {
		posts, err = c.ReadUserTimeline(ctx, userID, start, stop)
		return err
	})
	return posts, err
}
