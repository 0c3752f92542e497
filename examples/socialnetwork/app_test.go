package socialnetwork

import (
	"context"
	"slices"
	"testing"
)

// TestRequestTypes sends one request of each type and checks which services
// its trace went through.
func TestRequestTypes(t *testing.T) {
	app, rec := startTestApp(t, AppConfig{})
	c := app.NewClient()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	tests := []struct {
		reqType string
		want    []string // services every request of the type reaches
	}{
		{ReadHomeTimeline, []string{Nginx, HomeTimeline, HomeTimelineRD, PostStorage, PostStorageMC}},
		{ReadUserTimeline, []string{Nginx, UserTimeline, UserTimelineRD, PostStorage, PostStorageMC}},
		{ComposePostReq, []string{Nginx, ComposePost, TextService, URLShorten, URLShortenDB, UserMention, UserMC,
			UserService, UniqueID, PostStorage, PostStorageDB, PostStorageMC, UserTimeline, UserTimelineDB,
			UserTimelineRD, HomeTimeline, SocialGraph, SocialGraphRD, HomeTimelineRD}},
	}
	for _, tt := range tests {
		t.Run(tt.reqType, func(t *testing.T) {
			if err := c.Do(ctx, tt.reqType, 42); err != nil {
				t.Fatal(err)
			}
			if err := app.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, name := range ServiceNames() {
				if len(rec.spans[name]) > 0 {
					got = append(got, name)
				}
			}
			rec.take("")
			for _, w := range tt.want {
				if !slices.Contains(got, w) {
					t.Errorf("%s did not reach %s (reached %v)", tt.reqType, w, got)
				}
			}
		})
	}
	if err := c.Do(ctx, "unknown", 1); err == nil {
		t.Error("unknown request type accepted")
	}
}

// TestStartRejectsUnknownService checks the configuration of services by
// name.
func TestStartRejectsUnknownService(t *testing.T) {
	_, err := Start(context.Background(), AppConfig{Services: map[string]ServiceConfig{"nope": {}}})
	if err == nil {
		t.Fatal("configuration of an unknown service accepted")
	}
}
