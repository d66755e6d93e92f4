package httpapi

import "github.com/grassroots-ledger/ledger/commands"

// RegisterCatalogue registers every command of the ledger as POST /api/v1/commands/<name>. The body of
// each is the command struct of package commands, which documents the fields and the stream the command
// appends to.
func RegisterCatalogue(r *Commands, h *commands.Handlers) {
	// Registry and rulebook (Administer).
	RegisterCommand(r, "register-jurisdiction", "Register a node of the jurisdiction tree (登记辖区)", h.RegisterJurisdiction)
	RegisterCommand(r, "register-community", "Register a community or village (登记社区/村)", h.RegisterCommunity)
	RegisterCommand(r, "update-community-figures", "Update a community's households and adult population (更新户数与人口)", h.UpdateCommunityFigures)
	RegisterCommand(r, "set-rule-override", "Override a rule parameter for a jurisdiction (规则覆盖)", h.SetRuleOverride)
	RegisterCommand(r, "remove-rule-override", "Remove a jurisdiction's rule override (撤销规则覆盖)", h.RemoveRuleOverride)

	// Committee roster.
	RegisterCommand(r, "seat-committee", "Seat the committee of a new term (委员会就职)", h.SeatCommittee)
	RegisterCommand(r, "join-committee", "Record a member joining the committee (委员加入)", h.JoinCommittee)
	RegisterCommand(r, "leave-committee", "Record a member leaving the committee (委员离任)", h.LeaveCommittee)

	// Elections (换届选举).
	RegisterCommand(r, "form-election-committee", "Form the election committee and start an election (成立选举委员会)", h.FormElectionCommittee)
	RegisterCommand(r, "add-election-committee-member", "Fill a vacancy on the election committee (递补)", h.AddElectionCommitteeMember)
	RegisterCommand(r, "leave-election-committee", "Record a member leaving the election committee (退出选举委员会)", h.LeaveElectionCommittee)
	RegisterCommand(r, "nominate-candidate", "Nominate a candidate (提名候选人)", h.NominateCandidate)
	RegisterCommand(r, "withdraw-candidate", "Record a candidate withdrawing (候选人退出)", h.WithdrawCandidate)
	RegisterCommand(r, "publicize-candidate-list", "Publicize the candidate list (候选人名单公示)", h.PublicizeCandidateList)
	RegisterCommand(r, "raise-election-objection", "Record an objection to the candidate list (选举异议)", h.RaiseElectionObjection)
	RegisterCommand(r, "answer-election-objection", "Answer an election objection (答复异议)", h.AnswerElectionObjection)
	RegisterCommand(r, "hold-voting", "Record the vote (投票选举)", h.HoldVoting)
	RegisterCommand(r, "certify-election-result", "Certify the election result (确认选举结果)", h.CertifyElectionResult)
	RegisterCommand(r, "recall-member", "Record a member recalled by vote (罢免)", h.RecallMember)
	RegisterCommand(r, "by-elect-member", "Record a member elected to a vacancy (补选)", h.ByElectMember)
	RegisterCommand(r, "resign-member", "Record a member's resignation (辞职)", h.ResignMember)

	// Meetings (会议).
	RegisterCommand(r, "convene-meeting", "Record that a meeting took place (召开会议)", h.ConveneMeeting)
	RegisterCommand(r, "record-attendance", "Record the attendance of a meeting (到会人数)", h.RecordAttendance)
	RegisterCommand(r, "table-motion", "Table a motion (提出议案)", h.TableMotion)
	RegisterCommand(r, "record-vote", "Record the vote on a motion (表决)", h.RecordVote)
	RegisterCommand(r, "adopt-resolution", "Record a resolution adopted (决议)", h.AdoptResolution)
	RegisterCommand(r, "record-minutes", "Record the minutes of a meeting (会议记录)", h.RecordMinutes)
	RegisterCommand(r, "close-meeting", "Record the end of a meeting (散会)", h.CloseMeeting)

	// Deliberation (五步议事).
	RegisterCommand(r, "collect-topic", "Collect a deliberation topic (征集议题)", h.CollectTopic)
	RegisterCommand(r, "screen-topic", "Screen a topic (筛选议题)", h.ScreenTopic)
	RegisterCommand(r, "draft-topic-plan", "Draft the deliberation plan (拟定议事方案)", h.DraftTopicPlan)
	RegisterCommand(r, "give-topic-notice", "Give notice of the deliberation (告知协商事宜)", h.GiveTopicNotice)
	RegisterCommand(r, "hold-topic-deliberation", "Record the deliberation (组织协商)", h.HoldTopicDeliberation)
	RegisterCommand(r, "disclose-topic-result", "Record the disclosure of the outcome (协商结果公开)", h.DiscloseTopicResult)
	RegisterCommand(r, "record-topic-feedback", "Record implementation and feedback (落实反馈)", h.RecordTopicFeedback)

	// Funds (经费与支出).
	RegisterCommand(r, "allocate-budget", "Record funds allocated for a fiscal year (拨款)", h.AllocateBudget)
	RegisterCommand(r, "request-expenditure", "Request an expenditure (支出申请)", h.RequestExpenditure)
	RegisterCommand(r, "approve-expenditure", "Approve an expenditure (审批支出)", h.ApproveExpenditure)
	RegisterCommand(r, "pay-expenditure", "Record a payment (支付)", h.PayExpenditure)
	RegisterCommand(r, "reject-expenditure", "Reject an expenditure (驳回)", h.RejectExpenditure)
	RegisterCommand(r, "cancel-expenditure", "Cancel an expenditure (撤销)", h.CancelExpenditure)

	// Public board (村务公开/居务公开).
	RegisterCommand(r, "publish-disclosure", "Publish a notice on the public board (发布公开)", h.PublishDisclosure)
	RegisterCommand(r, "correct-disclosure", "Correct a notice (更正)", h.CorrectDisclosure)
	RegisterCommand(r, "withdraw-disclosure", "Withdraw a notice (撤回)", h.WithdrawDisclosure)
	RegisterCommand(r, "raise-disclosure-objection", "Record a resident's objection to a notice (公示异议)", h.RaiseDisclosureObjection)
	RegisterCommand(r, "answer-disclosure-objection", "Answer an objection to a notice (答复异议)", h.AnswerDisclosureObjection)

	// Audits (审计).
	RegisterCommand(r, "open-audit", "Open an audit of cadres (开始审计)", h.OpenAudit)
	RegisterCommand(r, "record-audit-finding", "Record an audit finding (审计发现)", h.RecordAuditFinding)
	RegisterCommand(r, "close-audit", "Close an audit with its result (审计结论)", h.CloseAudit)

	// The seal register (印章管理).
	RegisterCommand(r, "register-seal", "Put a seal on the register with its custodian (印章登记)", h.RegisterSeal)
	RegisterCommand(r, "change-seal-custodian", "Hand a seal to another custodian (印章交接)", h.ChangeSealCustodian)
	RegisterCommand(r, "request-seal-use", "Request a use of a seal (用印申请)", h.RequestSealUse)
	RegisterCommand(r, "approve-seal-use", "Approve a use of a seal (用印审批)", h.ApproveSealUse)
	RegisterCommand(r, "record-seal-use", "Record a seal put on a document, with its hash (用印登记)", h.RecordSealUse)

	// Collective assets and resources (三资).
	RegisterCommand(r, "register-asset", "Put an asset or resource on the register (资产登记)", h.RegisterAsset)
	RegisterCommand(r, "sign-asset-contract", "Record an asset let out by contract (发包、租赁)", h.SignAssetContract)
	RegisterCommand(r, "receive-rent", "Record an installment of rent received (收取租金)", h.ReceiveRent)
	RegisterCommand(r, "dispose-asset", "Record a fixed asset disposed of (资产处置)", h.DisposeAsset)

	// Community workers (社区工作者).
	RegisterCommand(r, "hire-worker", "Put a community worker on the roster on a post of 三岗十八级 (聘用)", h.HireWorker)
	RegisterCommand(r, "change-worker-post", "Move a worker to another post or grade (晋级、转岗)", h.ChangeWorkerPost)
	RegisterCommand(r, "record-worker-training", "Record a course a worker attended (培训)", h.RecordWorkerTraining)
	RegisterCommand(r, "record-worker-leave", "Take a worker off the roster (离职)", h.RecordWorkerLeave)

	// Satisfaction surveys and democratic evaluations (满意度测评, 民主评议).
	RegisterCommand(r, "open-survey", "Open a satisfaction survey of a community (满意度测评)", h.OpenSurvey)
	RegisterCommand(r, "open-street-survey", "Open the same satisfaction survey in every community of a street or district at once (统一测评)", h.OpenStreetSurvey)
	RegisterCommand(r, "close-survey", "Close a survey with its tallies per question (测评结果)", h.CloseSurvey)
	RegisterCommand(r, "hold-evaluation", "Record a half year's democratic evaluation of the committee's members (民主评议)", h.HoldEvaluation)

	// Supervision casework (督查): supervisors inspect, order rectification and publish bulletins; the
	// committee reports its rectification.
	RegisterCasework(r, "record-inspection", "Record an inspection of a community by a supervisors' group (督查)", h.RecordInspection)
	RegisterCasework(r, "order-rectification", "Order a finding of an inspection or an audit put right by a deadline (整改通知)", h.OrderRectification)
	RegisterCommand(r, "report-rectification", "Record what the committee did about a rectification order (整改情况)", h.ReportRectification)
	RegisterCasework(r, "publish-bulletin", "Publish a street's or district's supervision bulletin (督查通报)", h.PublishBulletin)

	// The annual assessment (年度目标考核加扣分) and the rating history (红黄绿 per month and quarter).
	RegisterCasework(r, "define-assessment", "Define a street's or district's assessment year: items, points and how each is scored (年度目标考核)", h.DefineAssessment)
	RegisterCasework(r, "score-assessment", "Record an assessor's score of an item for a community, with the reason (考核评分)", h.ScoreAssessment)
	RegisterCasework(r, "freeze-assessment", "Freeze a community's ended year as the ledger scores it now (考核结果)", h.FreezeAssessment)
	RegisterCasework(r, "record-rating", "Record a community's rating for a month or quarter that ended, as it stands now (评级)", h.RecordRating)

	// The admission list for work entering communities (社区工作事项准入).
	RegisterCommand(r, "list-duty", "Put a duty on the district's list of community work (列入清单)", h.ListDuty)
	RegisterCommand(r, "delist-duty", "Take a duty off the district's list (移出清单)", h.DelistDuty)
	RegisterCommand(r, "apply-task-admission", "Record a department's application to push a task onto communities (准入申请)", h.ApplyTaskAdmission)
	RegisterCommand(r, "decide-task-admission", "Admit or refuse a task (准入审批)", h.DecideTaskAdmission)
	RegisterCommand(r, "record-community-task", "Record a task a department pushed onto the community (工作事项登记)", h.RecordCommunityTask)
}

// RegisterPrivacy registers the erasure of a person's personal data (Administer, over every community
// holding it).
func RegisterPrivacy(r *Commands, p *commands.Privacy) {
	RegisterCommand(r, "erase-personal-data", "Erase a person's personal data on a lawful request (依法删除个人信息)", p.ErasePersonalData)
}
