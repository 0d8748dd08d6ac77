# Sidekiq peer: N no-op jobs pushed one at a time (Sidekiq::Client.push, each
# waited for) by one client, end to end, then the same N with push_bulk in
# batches of 1,000. Starts its own `sidekiq` worker processes (one per core,
# concurrency 10 each) and stops them on exit.
#
# usage: ruby sidekiq_bench.rb --redis URL --jobs N --mode MODE
#                              [--processes P] [--concurrency C] [--pidfile FILE]
# Prints: PEER system=sidekiq mode=MODE figure=... value=... unit=... jobs=N
# Sidekiq OSS has no per-job status look-up, so there are no lookup.* figures.
require "etc"
require "optparse"

opts = { redis: "redis://127.0.0.1:6379/0", jobs: 20_000, mode: "none",
         processes: Etc.nprocessors, concurrency: 10, pidfile: nil, log: "/dev/null" }
OptionParser.new do |o|
  o.on("--redis URL") { |v| opts[:redis] = v }
  o.on("--jobs N", Integer) { |v| opts[:jobs] = v }
  o.on("--mode MODE") { |v| opts[:mode] = v }
  o.on("--processes P", Integer) { |v| opts[:processes] = v }
  o.on("--concurrency C", Integer) { |v| opts[:concurrency] = v }
  o.on("--pidfile FILE") { |v| opts[:pidfile] = v }
  o.on("--log FILE") { |v| opts[:log] = v }
end.parse!

ENV["REDIS_URL"] = opts[:redis]
require_relative "worker"
require "sidekiq/api"

Sidekiq.configure_client { |config| config.redis = { url: opts[:redis], size: 2 } }

jobs = opts[:jobs]
workers = []
# A TERM or INT from run_peers.sh unwinds through the ensure below, which stops
# the workers.
trap("TERM") { exit 143 }
trap("INT") { exit 130 }

def now = Process.clock_gettime(Process::CLOCK_MONOTONIC)

def out(mode, jobs, figure, value, unit)
  puts format("PEER system=sidekiq mode=%s figure=%s value=%.3f unit=%s jobs=%d", mode, figure, value, unit, jobs)
  $stdout.flush
end

def done_count = Sidekiq.redis { |c| c.get(DONE_KEY) }.to_i

ok = true
begin
  opts[:processes].times do
    workers << Process.spawn({ "REDIS_URL" => opts[:redis] },
                             "sidekiq", "-r", File.join(__dir__, "worker.rb"), "-q", "bench",
                             "-c", opts[:concurrency].to_s, "-t", "5",
                             out: [opts[:log], "a"], err: [opts[:log], "a"])
  end
  File.write(opts[:pidfile], workers.join("\n") + "\n") if opts[:pidfile]

  # Ready when every process has sent its first heartbeat.
  deadline = now + 60
  until Sidekiq::ProcessSet.new.size >= opts[:processes]
    raise "sidekiq workers did not start (see #{opts[:log]})" if now > deadline
    sleep 0.05
  end

  [false, true].each do |bulk|
    Sidekiq.redis { |c| c.del(DONE_KEY) }
    t0 = now
    pushed = 0
    if bulk
      (0...jobs).step(1000) do |i|
        jids = Sidekiq::Client.push_bulk("class" => NoopWorker, "args" => Array.new([1000, jobs - i].min) { [] })
        pushed += jids.compact.size
      end
    else
      jobs.times { pushed += 1 if Sidekiq::Client.push("class" => NoopWorker, "args" => []) }
    end
    submit_s = now - t0
    deadline = now + 600
    # End to end: every job has run and recorded its completion.
    sleep 0.01 while done_count < pushed && now < deadline
    total_s = now - t0
    done = done_count
    suffix = bulk ? ".bulk" : ""
    out(opts[:mode], jobs, "e2e#{suffix}", jobs / total_s, "jobs/s")
    out(opts[:mode], jobs, "submit#{suffix}", jobs / submit_s, "jobs/s")
    out(opts[:mode], jobs, "completed#{suffix}", done, "count")
    ok &&= (done == jobs)
  end
ensure
  workers.each { |pid| Process.kill("TERM", pid) rescue nil }
  stop_by = now + 10
  workers.each do |pid|
    loop do
      break if Process.wait(pid, Process::WNOHANG) rescue break
      if now > stop_by
        Process.kill("KILL", pid) rescue nil
        Process.wait(pid) rescue nil
        break
      end
      sleep 0.05
    end
  end
  File.delete(opts[:pidfile]) if opts[:pidfile] && File.exist?(opts[:pidfile])
end
exit(ok ? 0 : 1)
