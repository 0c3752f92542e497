package socialnetwork

// Service names, as the spans carry them and as the simulator's
// social-network topology names them.
const (
	Nginx          = "nginx"
	ComposePost    = "compose-post-service"
	TextService    = "text-service"
	URLShorten     = "url-shorten-service"
	UserMention    = "user-mention-service"
	UserService    = "user-service"
	UniqueID       = "unique-id-service"
	PostStorage    = "post-storage-service"
	UserTimeline   = "user-timeline-service"
	HomeTimeline   = "home-timeline-service"
	SocialGraph    = "social-graph-service"
	PostStorageMC  = "post-storage-memcached"
	UserMC         = "user-memcached"
	HomeTimelineRD = "home-timeline-redis"
	UserTimelineRD = "user-timeline-redis"
	SocialGraphRD  = "social-graph-redis"
	PostStorageDB  = "post-storage-mongodb"
	UserDB         = "user-mongodb"
	UserTimelineDB = "user-timeline-mongodb"
	SocialGraphDB  = "social-graph-mongodb"
	URLShortenDB   = "url-shorten-mongodb"
)

// Request types of the load, as the simulator's topology names them.
const (
	ReadHomeTimeline = "read-home-timeline"
	ReadUserTimeline = "read-user-timeline"
	ComposePostReq   = "compose-post"
)

// RequestTypes lists the request types in a fixed order.
var RequestTypes = []string{ReadHomeTimeline, ReadUserTimeline, ComposePostReq}

// Tier is the role of a service.
type Tier string

// Tiers.
const (
	TierFront   Tier = "front"
	TierLogic   Tier = "logic"
	TierCache   Tier = "cache"
	TierStorage Tier = "storage"
)

// Services lists every service of the application with its tier, in start
// order: a service starts after the services it calls.
var Services = []struct {
	Name string
	Tier Tier
}{
	{PostStorageDB, TierStorage}, {UserDB, TierStorage}, {UserTimelineDB, TierStorage},
	{SocialGraphDB, TierStorage}, {URLShortenDB, TierStorage},
	{PostStorageMC, TierCache}, {UserMC, TierCache}, {HomeTimelineRD, TierCache},
	{UserTimelineRD, TierCache}, {SocialGraphRD, TierCache},
	{UniqueID, TierLogic}, {URLShorten, TierLogic}, {UserMention, TierLogic}, {UserService, TierLogic},
	{SocialGraph, TierLogic}, {PostStorage, TierLogic}, {TextService, TierLogic},
	{UserTimeline, TierLogic}, {HomeTimeline, TierLogic}, {ComposePost, TierLogic},
	{Nginx, TierFront},
}

// ServiceNames returns the names of Services.
func ServiceNames() []string {
	out := make([]string, len(Services))
	for i, s := range Services {
		out[i] = s.Name
	}
	return out
}
