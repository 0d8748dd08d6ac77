# The Sidekiq peer's no-op job, loaded by each `sidekiq -r` worker process and
# by the client (bench/peers/sidekiq/sidekiq_bench.rb).
#
# Sidekiq OSS keeps no per-job result or status, so a finished job records its
# completion with one INCR: the counterpart of Celery's stored result, RQ's
# "finished" status and BullMQ's move to the completed set, and what the client
# counts for the end-to-end figure.
require "logger"
require "sidekiq"

# Debian 12 pairs Sidekiq 6.4 with redis-rb 4.8, which warns on stderr at every
# push (SADD's return type) and every fetch (BRPOP's timeout argument): noise
# that would cost a write per job, so it is silenced.
Redis.silence_deprecations = true

DONE_KEY = "overseer-bench:done"

# Per-job "start"/"done" lines at INFO would be the workers' main cost; the
# other peers' workers log at WARNING too.
Sidekiq.configure_server { |config| config.logger.level = Logger::WARN }

class NoopWorker
  include Sidekiq::Worker
  sidekiq_options queue: "bench"

  def perform
    Sidekiq.redis { |conn| conn.incr(DONE_KEY) }
  end
end
