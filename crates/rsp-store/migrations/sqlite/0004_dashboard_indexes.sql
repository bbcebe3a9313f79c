-- Indexes for the dashboard's reads (rsp serve), measured at 1,000,000 samples
-- (benches/serve): without them the live-runs poll scans every run each second, and
-- comparing two large runs looks up every sample's row (20 s and 800 MB peak RSS for two
-- 1M-sample runs; 3-6 s and 66 MB with the covering index).
CREATE INDEX runs_by_status ON runs (status, created_at);
CREATE INDEX samples_by_value ON samples (run_id, sample_id, epoch, value);
