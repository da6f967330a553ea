# Transition requests, reviews and policies arrive with the approvals issue.
