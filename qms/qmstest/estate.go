package qmstest

import "github.com/qvmeter/qvmeter/qms"

// Sample is the CAL state of the bundled sample estate's QMS
// (fixtures/estate) with known answers: one QlikView Server, QVS-PROD-01,
// holding five named CALs never used (no session of their users is in the
// logs, the QMS has no last use), three licence leases of two of those
// users (CORP\AFischer on two machines, CORP\BNguyen on one), and two
// document CALs on "Regional/Budget 2024.qvw", a document the logs show
// until March 2024 and the QMS now lists as an orphan (deleted). The QMS's
// last use of CORP\TGarcia's document CAL agrees with the logs; CORP\CTanaka's
// is later than any logged session on it (a gap in the logs).
func Sample() []*QVS {
	never := func(user string) qms.CAL {
		return qms.CAL{UserName: user, LastUsed: qms.NeverUsed, QuarantinedUntil: qms.NeverUsed}
	}
	lease := func(user, machine, at string) qms.CAL {
		return qms.CAL{UserName: user, MachineID: machine, LastUsed: qms.NeverUsed, QuarantinedUntil: qms.NeverUsed, LeasedAt: at}
	}
	named := []qms.CAL{never(`CORP\AFischer`), never(`CORP\BNguyen`), never(`CORP\CMorales`), never(`CORP\DPatel`), never(`CORP\EOkafor`)}
	return []*QVS{{
		Info: qms.ServiceInfo{Address: "http://qvs-prod-01:4747/", ClusterNodeCount: 1,
			ID: "3c2b6a9e-61f1-4d4e-9d0b-5a3e2b7c1f01", Name: "QVS-PROD-01", Type: qms.ServiceTypeQlikViewServer},
		Named: qms.NamedCALs{
			AllowDynamicAssignment: true, AllowLicenseLease: true, Assigned: len(named), InLicense: 80, Limit: 80,
			IdentificationMode: "Default",
			AssignedCALs:       &qms.AssignedNamedCALs{CALs: named},
			LeasedCALs: &qms.LeasedNamedCALs{CALs: []qms.CAL{
				lease(`CORP\AFischer`, "LAPTOP-AF01", "2024-04-10T08:15:00Z"),
				lease(`CORP\AFischer`, "DESKTOP-AF02", "2024-04-12T13:40:00Z"),
				lease(`CORP\BNguyen`, "LAPTOP-BN01", "2024-04-02T09:05:00Z"),
			}},
			RemovedAssignedCALs: &qms.AssignedNamedCALs{},
		},
		Documents: []*Document{
			{Node: qms.DocumentNode{FolderID: "0f4c1e2d-0000-4000-8000-000000000001", ID: "9a1d7c3b-0000-4000-8000-000000000010",
				Name: "Sales.qvw", Type: "User"},
				Licensing: qms.Licensing{AllowDynamicCALAssignment: true, CALsAllocated: 5, AssignedCALs: &qms.AssignedNamedCALs{}}},
			{Node: qms.DocumentNode{FolderID: "0f4c1e2d-0000-4000-8000-000000000001", ID: "9a1d7c3b-0000-4000-8000-000000000011",
				IsOrphan: true, Name: "Budget 2024.qvw", RelativePath: "Regional", Type: "User"},
				Licensing: qms.Licensing{CALsAllocated: 5, AssignedCALs: &qms.AssignedNamedCALs{CALs: []qms.CAL{
					{UserName: `CORP\TGarcia`, LastUsed: "2024-03-04T17:39:08Z", QuarantinedUntil: qms.NeverUsed},
					{UserName: `CORP\CTanaka`, LastUsed: "2024-03-27T10:02:00Z", QuarantinedUntil: qms.NeverUsed},
				}}}},
		},
	}}
}
