#check demo

#check f
