"""The local deploy harness: every stack deployed on moto, the pull requests played
through Atlantis' flow with the plan and apply roles (`make pr-flow`)."""
